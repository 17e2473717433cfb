"""Progress bars: drawn on a terminal only, moved by the library's callback, silent with --quiet."""
import io

import numpy as np

from napari_skelite import skeletonize
from napari_skelite.cli import main
from napari_skelite.progress import Bar, progress_enabled


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_is_drawn_on_a_terminal():
    assert progress_enabled(False, _Terminal())


def test_no_bar_is_drawn_when_stderr_is_not_a_terminal():
    assert not progress_enabled(False, io.StringIO())


def test_quiet_draws_no_bar_even_on_a_terminal():
    assert not progress_enabled(True, _Terminal())


def test_a_chunked_run_moves_the_bar_once_per_block():
    screen = _Terminal()
    labels = np.zeros((96, 96), np.uint8)
    labels[10:86, 40:43] = labels[40:43, 10:86] = 1  # thin: a halo under the chunk side
    with Bar("test", "block", stream=screen) as bar:
        skeletonize(labels, "boolean", chunks=32, callback=bar)
    assert bar.done == bar.total == 9 and "9/9" in screen.getvalue()


def test_the_command_line_writes_no_bar_into_a_log(tmp_path, capsys):
    labels = np.zeros((40, 40), np.uint8)
    labels[5:35, 10:30] = 1
    np.save(tmp_path / "in.npy", labels)
    assert main(["skeletonize", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"), "--chunks", "20"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "block" not in err
