"""The plugin's state and actions on a napari viewer model, without Qt.

A :class:`Session` holds which layer is the input, which layers are its
results (matched by the stable ids in their metadata, see :mod:`.layers`),
the typed threshold of each Image layer, the comparison rows, the graph legend
and the one job that may run at a time (:mod:`.jobs`). It talks to the
viewer model only; the dock widget (:mod:`.widget`) forwards the user's clicks
to it and renders its :attr:`Session.events`. Every computation runs in a job;
the GUI thread only adds or updates layers.

It works the same on ``napari.components.ViewerModel`` (tests, scripts) and on
the ``PublicOnlyProxy`` of a viewer that napari hands a plugin widget.
"""
from __future__ import annotations

import atexit
import functools
import inspect
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from napari.utils.events import EmitterGroup

from .._validate import otsu_threshold, output_dtype
from ..chunked import is_dask_array
from ..compare import disagreement
from . import controller as C
from . import gc_pauses
from . import layers as L
from .jobs import Cancelled, Job, Runner

__all__ = ["Session"]

_log = logging.getLogger(__name__)

#: the kinds of output that "one result at a time" hides when another is shown
RESULT_KINDS = ("skeleton", "iterations", "removed", "graph", "differences")
REMOVED_COLOUR = (1.0, 0.1, 0.6, 1.0)
DIFF_COLOURS = {1: (1.0, 0.55, 0.1, 1.0), 2: (0.2, 0.9, 1.0, 1.0)}


def _full_res(layer):
    """A layer's full-resolution data; a chunked array-like (a Zarr array) comes as a dask array, read lazily."""
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    if not isinstance(data, np.ndarray) and not is_dask_array(data) and getattr(data, "chunks", None) is not None:
        import dask.array as da

        data = da.from_array(data, chunks=data.chunks)
    return data


def _snapshot_of(data):
    """What a job reads: a copy of numpy data (the user may paint the layer meanwhile); dask stays lazy."""
    return data if is_dask_array(data) else np.array(data, copy=True)


@functools.cache
def _results_root() -> Path:
    """This process's folder for large results kept on disk, removed when Python exits."""
    root = Path(tempfile.mkdtemp(prefix="napari-skelite-results-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _new_result_folder() -> Path:
    """A new folder for one large result (a Zarr store the result layer reads)."""
    return Path(tempfile.mkdtemp(dir=_results_root()))


def _is_image(layer) -> bool:
    from napari.layers import Image

    return isinstance(layer, Image)


def _result_layer(data, kw, kind, colormap=None, *, visible=True, name_shown=None):
    """A result's Labels layer, colours and first slice included, not yet in a viewer (jobs build them).

    ``kind`` ``"removed"`` and ``"differences"`` get their fixed colours;
    ``name_shown``: True or False writes the name on the canvas (or not).
    """
    from napari.layers import Labels
    from napari.utils.colormaps import DirectLabelColormap

    kw = dict(kw)
    if kind == "removed":
        colormap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), 1: REMOVED_COLOUR})
        kw["opacity"] = 0.9
    elif kind == "differences":
        colormap = DirectLabelColormap(color_dict={None: (0, 0, 0, 0), **DIFF_COLOURS})
    layer = Labels(data, visible=visible, **kw, **({"colormap": colormap} if colormap is not None else {}))
    if name_shown is not None:
        _show_name(layer, name_shown)
    return layer


def _show_name(layer, shown: bool) -> None:
    """Write the layer's name on the canvas, or not (napari >= 0.9); only what changes is set (each change redraws)."""
    overlay = getattr(layer, "name_overlay", None)
    if overlay is None:
        return
    if overlay.font_size != 10:
        overlay.font_size = 10
    if overlay.visible != shown:
        overlay.visible = shown


class Session:
    """One input at a time, its results, the comparison and the running job.

    Parameters
    ----------
    viewer : napari.components.ViewerModel (or napari's proxy of a Viewer)
    runner : Runner, optional
        Starts jobs; by default callbacks wait for :meth:`Runner.process`.
    notify : callable, optional
        ``notify(level, message)`` with level ``"info"``, ``"warning"`` or
        ``"error"``; by default napari's notifications. Every message is also
        kept in :attr:`messages`.

    Events
    ------
    inputs, input, threshold, status, progress, busy, rows, legend :
        emitted (``value=``) when those change; a view re-reads the session.
    """

    def __init__(self, viewer, runner: Runner | None = None, notify: Callable | None = None):
        self.viewer = viewer
        self.runner = runner or Runner()
        self._notify = notify
        self.events = EmitterGroup(source=self, inputs=None, input=None, threshold=None, status=None, progress=None,
                                   busy=None, rows=None, legend=None)
        self.input_id: str | None = None
        self.thresholds: dict[str, float] = {}  # input id -> the threshold the user typed
        self._otsu: dict[str, float] = {}
        self.rows: list[dict] = []  # the comparison table, of the input `rows_for`
        self.rows_for: str | None = None
        self.compare_ids: dict[str, str] = {}  # method -> id of the skeleton layer the comparison made
        self.job: Job | None = None
        self.status = ""
        self.progress = (0, 0, None)  # done, total, unit (None: share of the work)
        self.legend: dict | None = None
        self.messages: list[tuple[str, str]] = []
        self.warm = None
        self.closed = False
        self._showing: Job | None = None  # the job whose result is being added, one piece per event-loop turn
        ev = viewer.layers.events
        ev.inserted.connect(self._on_inserted)
        ev.removed.connect(self._on_removed)
        ev.reordered.connect(self._on_reordered)
        active = viewer.layers.selection.active
        self._pick_input(L.ensure_id(active) if active is not None and self._is_candidate(active) else None)

    # ------------------------------------------------------------ messages
    def notify(self, level: str, message: str) -> None:
        self.messages.append((level, message))
        if self._notify is not None:
            self._notify(level, message)
            return
        from napari.utils import notifications

        getattr(notifications, f"show_{level}")(message)

    def _set_status(self, text: str) -> None:
        self.status = text
        self.events.status(value=text)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # ------------------------------------------------------------- inputs
    def _layers(self):
        return list(self.viewer.layers)

    @staticmethod
    def _is_candidate(layer) -> bool:
        from napari.layers import Image, Labels

        return isinstance(layer, (Labels, Image)) and not L.is_output(layer)

    def inputs(self) -> list:
        """The layers that can be skeletonized (Labels and Image layers the plugin did not make)."""
        out = [ly for ly in self._layers() if self._is_candidate(ly)]
        for ly in out:
            L.ensure_id(ly)
        return out

    def layer(self, layer_id):
        """The layer whose stable id is ``layer_id``, or None."""
        return L.by_id(self._layers(), layer_id)

    def input_layer(self):
        return self.layer(self.input_id)

    def choose_input(self, layer_id: str | None) -> None:
        """Make the layer with this stable id the input (its table and threshold come with it)."""
        if layer_id == self.input_id:
            return
        self.input_id = layer_id
        self.events.input(value=layer_id)
        self.events.threshold(value=self.threshold)

    def _pick_input(self, preferred=None) -> None:
        ids = [L.id_of(ly) for ly in self.inputs()]
        self.events.inputs(value=ids)
        if self.input_id in ids:
            return
        self.choose_input(preferred if preferred in ids else (ids[0] if ids else None))

    def _on_inserted(self, event) -> None:
        layer = event.value
        meta = L.meta_of(layer)
        if meta.get("id") and sum(L.id_of(ly) == meta["id"] for ly in self._layers()) > 1:
            # napari's Duplicate copies the metadata: the copy gets its own id, and an output copy is not replaced
            layer.metadata[L.KEY] = {**meta, "id": L.new_id(), **({"copy": True} if "source" in meta else {})}
        self._pick_input()

    def _on_removed(self, event) -> None:
        gc_pauses.released(event.value)  # a frozen layer is unfrozen, so its data can be freed
        gone = L.id_of(event.value)
        if self.job is not None and gone is not None and self.job.source == gone:
            self.job.cancel()
            self._set_status(f"input layer {event.value.name!r} removed; stopping the job…")
        if gone is not None and gone == self.rows_for and self.layer(gone) is None:
            self._set_rows([], None)
        self._pick_input()

    def _on_reordered(self, event=None) -> None:
        self.events.inputs(value=[L.id_of(ly) for ly in self.inputs()])

    # ---------------------------------------------------------- threshold
    @property
    def threshold(self) -> float | None:
        """The current input's threshold (an Image layer): the typed one, else Otsu's; None for Labels."""
        ly = self.input_layer()
        if ly is None or not _is_image(ly) or getattr(ly, "rgb", False):
            return None
        lid = L.id_of(ly)
        if lid in self.thresholds:
            return self.thresholds[lid]
        if lid not in self._otsu:
            self._otsu[lid] = float(otsu_threshold(_full_res(ly)))  # a strided sample; dask stays lazy
        return self._otsu[lid]

    def otsu(self) -> float | None:
        """Otsu's threshold of the current Image input (None for Labels)."""
        return self._otsu.get(self.input_id) if self.threshold is not None else None

    def set_threshold(self, value: float) -> None:
        """The user typed a threshold for the current Image input: kept until they type another."""
        if self.threshold is not None and float(value) != self.threshold:
            self.thresholds[self.input_id] = float(value)
            self.events.threshold(value=float(value))

    # ---------------------------------------------------------------- jobs
    def _start(self, job: Job, work, done, *, unit=None) -> Job | None:
        if self.closed:
            return None
        if self.job is not None:
            self.notify("warning", "A job is already going; cancel it or wait for it to finish.")
            return None
        gc_pauses.refreeze()
        self.job = job
        self.progress = (0, 0, unit)
        self.events.progress(value=self.progress)
        self._set_status(job.label)
        self.events.busy(value=True)

        def progress(n, total):
            if job is self.job:
                self.progress = (n, total, unit)
                self.events.progress(value=self.progress)

        def failed(err):
            if job is self.job and not self.closed:
                self._on_error(job, err)

        def finished():
            if self._showing is not job:  # else the last piece of the result ends the job
                self._end(job)

        def guarded_done(out):
            if self.closed:
                return
            if job.cancelled.is_set():
                return failed(Cancelled())
            try:
                pieces = done(out)
            except Exception as e:
                _log.exception("napari-skelite could not show a result")
                self._on_error(job, e)
                return
            if inspect.isgenerator(pieces):
                self._show_in_turns(job, pieces)

        def prepared_work(job, report):
            from .warmup import preload_torch_libraries

            preload_torch_libraries()  # or wait for the warm-up's loading, without holding the GIL
            return work(job, report)

        return self.runner.start(job, prepared_work, done=guarded_done, failed=failed, finished=finished,
                                 progress=progress)

    def _end(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            self.events.busy(value=False)

    def _show_in_turns(self, job: Job, pieces) -> None:
        """Run a result's ``done`` generator one ``yield`` per event-loop turn (each adds a layer, say).

        napari's work for one new layer (its controls, its visual, a redraw)
        takes up to about 0.1 s; between the pieces, the GUI draws and answers
        the user. The job stays busy until the last piece.
        """
        self._showing = job

        def turn():
            if self.closed:
                pieces.close()
                return
            try:
                next(pieces)
            except StopIteration:
                pass
            except Exception as e:
                _log.exception("napari-skelite could not show a result")
                self._on_error(job, e)
            else:
                self.runner.later(turn)
                return
            self._showing = None
            if job.done:  # else the job's `finished` ends it
                self._end(job)

        turn()

    def _on_error(self, job: Job, err: BaseException) -> None:
        msg = C.error_message(err)
        if isinstance(err, Cancelled):
            if job.source is not None and self.layer(job.source) is None:
                self._set_status("input layer removed; job stopped, nothing was added")
            else:
                self._set_status(msg)
                self.notify("info", "Cancelled.")
            return
        if not isinstance(err, C.USER_ERRORS):
            _log.error("napari-skelite job failed", exc_info=(type(err), err, err.__traceback__))
        self._set_status(f"error: {msg}")
        self.notify("error", msg)

    def cancel(self) -> None:
        """Stop the running job: runs within an iteration; graphs, pruning and graph files between labels."""
        if self.job is not None:
            self.job.cancel()
            self._set_status("cancelling…")

    def close(self) -> None:
        """The widget or viewer closes: cancel the job, stop the warm-up, let go of the viewer's events."""
        if self.closed:
            return
        self.closed = True
        self.runner.cancel_all()
        if self.warm is not None:
            self.warm.stop()
        gc_pauses.thaw()
        ev = self.viewer.layers.events
        for emitter, cb in ((ev.inserted, self._on_inserted), (ev.removed, self._on_removed),
                            (ev.reordered, self._on_reordered)):
            try:
                emitter.disconnect(cb)
            except (RuntimeError, TypeError, ValueError):  # pragma: no cover - already gone with the viewer
                pass

    def warm_up(self) -> None:
        """Pay the first-use costs of the current input's results off the GUI thread (see :mod:`.warmup`)."""
        from .warmup import warm_up, warmed, warmed_dtypes

        dtypes = {np.dtype(np.uint8)}
        ly = self.input_layer()
        if ly is not None and not _is_image(ly):
            dtypes.add(output_dtype(np.empty(0, _full_res(ly).dtype)))
        if self.closed or (dtypes <= warmed_dtypes() and {"engine", "graph", "shapes"} <= warmed()):
            return
        if self.warm is not None and self.warm.is_alive():
            self.warm.stop()
        self.warm = warm_up(sorted(dtypes, key=str), engine=True, graph=True)

    # ----------------------------------------------------------- the input
    def _snapshot(self):
        """The input layer and ``prepare()``, which gives its labels as the run sees them (call it in the job).

        The data are copied here, so painting the layer during a run changes
        nothing; the slower checks (does it look like labels, is the
        threshold sensible) run in the job and warn from there.
        """
        layer = self.input_layer()
        if layer is None:
            raise ValueError("No input layer: add or choose a Labels layer (or an Image layer with a threshold).")
        data = _full_res(layer)
        image = _is_image(layer)
        rgb = image and getattr(layer, "rgb", False)
        C.prepare_input(np.zeros((1,) * data.ndim, np.uint8), name=layer.name, rgb=rgb)  # RGB, 4D: refused now
        if not image:
            data = _snapshot_of(data)
        threshold, name, post = self.threshold if image else None, layer.name, self.runner.post

        def prepare():
            prepared = C.prepare_input(data, name=name, image=image, threshold=threshold)
            if prepared.warning:
                post(lambda: self.notify("warning", prepared.warning))
            return prepared.mask

        return layer, prepare, is_dask_array(data)

    def _checked(self):
        try:
            return self._snapshot()
        except ValueError as e:
            self.notify("error", str(e))
            self._set_status(f"error: {e}")
            return None, None, None

    def _record_options(self, layer, opts: dict) -> dict:
        out = {"iterations": opts.get("iterations"), "device": opts.get("device"),
               **C.method_options(opts["method"], opts)}
        if _is_image(layer):
            out["threshold"] = self.threshold
        return out

    # ----------------------------------------------------------------- run
    def run(self, options: dict) -> Job | None:
        """Skeletonize the input with ``options`` (method, iterations, device, guard, return_steps)."""
        layer, prepare, lazy = self._checked()
        if layer is None:
            return None
        opts = dict(options)
        if lazy and opts.get("return_steps"):
            self.notify("info", "Iterations are not kept for dask-backed (chunked) layers; computing the skeleton only.")
            opts["return_steps"] = False
        source = L.id_of(layer)
        run_opts = self._record_options(layer, opts)
        tag = L.variant_tag(opts["method"], run_opts)
        kws = {kind: L.layer_kwargs(f"{layer.name} {title} ({tag})", layer, kind, opts["method"],
                                    extra_axis=kind != "skeleton", options=run_opts, source_id=source)
               for kind, title in (("skeleton", "skeleton"), ("iterations", "iterations"),
                                   ("removed", "removed per iteration"))}
        against = L.colormap_copy(layer)

        def work(job, report):
            result = C.run_job(prepare(), opts, report, store=_new_result_folder)
            # the layers are made here, colours and first slice included: off the GUI thread
            colours = L.bright_colormap(result.skeleton, against, ids=result.ids)
            made = {"skeleton": _result_layer(result.skeleton, kws["skeleton"], "skeleton", colours)}
            if result.steps is not None:
                made["iterations"] = _result_layer(result.steps, kws["iterations"], "iterations", colours)
                made["removed"] = _result_layer(L.removed_per_step(result.steps), kws["removed"], "removed")
            return result, made

        job = Job(f"running {opts['method']} on {layer.name}…", "run", source)
        return self._start(job, work, lambda out: self._add_run(job, opts, *out), unit="chunks" if lazy else None)

    def _add_run(self, job: Job, opts: dict, result: C.RunResult, made: dict):
        """Add the run's layers, one per event-loop turn (a generator, see :meth:`_show_in_turns`)."""
        layer = self.layer(job.source)
        if layer is None:
            self.notify("warning", "The input layer was removed during the run; result discarded.")
            self._set_status("input layer removed; result discarded")
            return
        method = opts["method"]
        run_opts = self._record_options(layer, opts)
        tag = L.variant_tag(method, run_opts)
        shown = [self._put(made["skeleton"], layer, "skeleton", method, run_opts, f"{layer.name} skeleton ({tag})")]
        if result.steps is not None:
            for kind, title in (("iterations", "iterations"), ("removed", "removed per iteration")):
                yield
                shown.append(self._put(made[kind], layer, kind, method, run_opts, f"{layer.name} {title} ({tag})"))
            axis = self.viewer.dims.ndim - result.steps.ndim
            self.viewer.dims.set_current_step(axis, len(result.steps) - 1)  # the final skeleton first
        else:  # the last run's steps would no longer match this skeleton
            for kind in ("iterations", "removed"):
                stale = L.find_output(self._layers(), job.source, kind, tag)
                if stale is not None:
                    yield
                    self.viewer.layers.remove(stale)
        self.show_only(shown)
        text, warning = C.run_status(result, method, layer.name, opts, job.seconds)
        self._set_status(text)
        if not result.ids:
            self.notify("info", "The input is empty: the skeleton is empty too.")
        if warning:
            self.notify("warning", warning)

    def _put(self, made, source, kind, method, options, name, extra=None):
        """Add, or update in place, the ``kind`` output of ``source`` for this variant; returns the layer.

        ``made``: the new layer, built in the job (:func:`_result_layer`); it
        is added when there is no output of this kind and variant to update.
        """
        source_id = L.id_of(source)
        kw = L.layer_kwargs(name, source, kind, method, extra_axis=kind in ("iterations", "removed"),
                            options=options, source_id=source_id)
        meta = kw["metadata"][L.KEY]
        meta.update(extra or {})
        existing = L.find_output(self._layers(), source_id, kind, meta["tag"])
        if existing is None:
            made.metadata = {**made.metadata, L.KEY: meta}
            self.viewer.add_layer(made)
            return self.layer(meta["id"])
        meta["id"] = L.id_of(existing)
        existing.data = made.data
        existing.scale, existing.translate = kw["scale"], kw["translate"]
        existing.metadata = {**existing.metadata, L.KEY: meta}  # this run's options, for the export's record
        existing.colormap = made.colormap
        return existing

    def show_only(self, layers) -> None:
        """One result at a time: of the input's outputs, only ``layers`` are visible (the input stays)."""
        keep = {L.id_of(ly) for ly in layers}
        source = L.meta_of(layers[0]).get("source") if layers else self.input_id
        for ly in L.outputs_of(self._layers(), source):
            show = L.id_of(ly) in keep
            if L.meta_of(ly).get("kind") in RESULT_KINDS and ly.visible != show:  # each change redraws
                ly.visible = show

    # ------------------------------------------------------------- compare
    def compare(self, names: list[str], options: dict) -> Job | None:
        """Run the methods ``names`` on the input; one skeleton layer each and the table's rows."""
        if not names:
            self.notify("error", "Tick at least one method to compare.")
            return None
        layer, prepare, _ = self._checked()
        if layer is None:
            return None
        opts = dict(options)
        job = Job(f"comparing {len(names)} methods on {layer.name}…", "compare", L.id_of(layer))

        against, source = L.colormap_copy(layer), L.id_of(layer)
        kws = {}
        for m in names:
            run_opts = self._record_options(layer, {**opts, "method": m, "iterations": None})
            kws[m] = (run_opts, L.layer_kwargs(f"{layer.name} skeleton ({L.variant_tag(m, run_opts)})", layer,
                                               "skeleton", m, options=run_opts, source_id=source))

        def work(job, report):
            out = C.compare_job(prepare(), names, opts, report, check=job.check)
            first = out.rows[0]["method"] if out.rows else None
            made = {}
            for m in names:  # built here, colours and first slice included; only the first row's is shown
                skel = out.results[m][0]
                if skel is not None:
                    ids = [v for v in np.unique(skel).tolist() if v]
                    made[m] = _result_layer(skel, kws[m][1], "skeleton", L.bright_colormap(skel, against, ids=ids),
                                            visible=m == first, name_shown=m == first)
                job.check()
            return out, made

        return self._start(job, work, lambda out: self._add_compare(job, names, kws, *out), unit="methods")

    def _add_compare(self, job, names, kws, out: C.CompareResult, made: dict):
        """Add the comparison's skeletons, one per event-loop turn, then its rows (a generator)."""
        layer = self.layer(job.source)
        if layer is None:
            return
        ids = {}
        for m in names:
            if m in made:
                run_opts, kw = kws[m]
                ids[m] = L.id_of(self._put(made[m], layer, "skeleton", m, run_opts, kw["name"]))
                yield
        self.compare_ids = ids
        self._set_rows(out.rows, job.source)
        missing = [r for r in out.rows if r.get("error")]
        if missing:
            self.notify("warning", "; ".join(f"{r['method']}: {r['error']}" for r in missing))
        if out.rows:
            self.select_rows([out.rows[0]["method"]])
        b0, b1 = out.betti
        self._set_status(f"compared {len(names)} methods on {layer.name} (input: β0 = {b0}, β1 = {b1})")

    def _set_rows(self, rows, source) -> None:
        self.rows, self.rows_for = list(rows), source
        if not rows:
            self.compare_ids = {}
        self.events.rows(value=self.rows)

    @property
    def table_rows(self) -> list[dict]:
        """The comparison rows of the current input (another input's rows wait until it is chosen again)."""
        return self.rows if self.rows_for is not None and self.rows_for == self.input_id else []

    def table_csv(self) -> str:
        return C.table_csv(self.table_rows)

    def compare_layer(self, method: str):
        """The skeleton layer the comparison made for ``method``, if still there."""
        return self.layer(self.compare_ids.get(method))

    def select_rows(self, methods: list[str]) -> None:
        """Show the chosen methods' skeletons over the input, alone; the last one becomes the active layer."""
        chosen = [ly for ly in (self.compare_layer(m) for m in methods) if ly is not None]
        if not chosen:
            return
        self.show_only(chosen)
        for m in self.compare_ids:
            ly = self.compare_layer(m)
            if ly is not None:
                _show_name(ly, L.id_of(ly) == L.id_of(chosen[-1]))
        if L.id_of(self.viewer.layers.selection.active) != L.id_of(chosen[-1]):
            self.viewer.layers.selection.active = chosen[-1]

    def differences(self, a: str, b: str):
        """Add (or update) a layer of the points only ``a``'s or only ``b``'s skeleton has; returns it."""
        la, lb = self.compare_layer(a), self.compare_layer(b)
        source = self.layer(self.rows_for)
        if la is None or lb is None or source is None:
            self.notify("error", "Select two rows of the comparison table whose skeleton layers are still there.")
            return None
        name = f"{source.name} differences ({a} only: orange, {b} only: cyan)"
        kw = L.layer_kwargs(name, source, "differences", f"{a} vs {b}", source_id=L.id_of(source))
        made = _result_layer(disagreement(la.data, lb.data), kw, "differences")
        out = self._put(made, source, "differences", f"{a} vs {b}", {}, name)
        self.show_only([la, lb, out])
        return out

    # --------------------------------------------------------------- graph
    def skeleton_layer(self):
        """The skeleton the graph panel and the export act on: the active one, else the input's last."""
        active = self.viewer.layers.selection.active
        if active is not None and L.meta_of(active).get("kind") == "skeleton":
            return self.layer(L.id_of(active))
        skels = [ly for ly in self._layers() if L.meta_of(ly).get("kind") == "skeleton"]
        mine = [ly for ly in skels if L.meta_of(ly).get("source") == self.input_id]
        return (mine or skels or [None])[-1]

    def _chosen_skeleton(self):
        ly = self.skeleton_layer()
        if ly is None:
            self.notify("error", "No skeleton layer: run a method first (or select a skeleton layer).")
        return ly

    def source_mask(self, skel):
        """The segmentation a skeleton layer came from (for radii), or None when it is gone or differs."""
        meta = L.meta_of(skel)
        src = self.layer(meta.get("source"))
        if src is None:
            return None
        data = _full_res(src)
        if tuple(data.shape) != tuple(skel.data.shape):
            return None
        if _is_image(src):
            threshold = meta.get("options", {}).get("threshold")
            return None if threshold is None else data > threshold
        return _snapshot_of(data)

    def show_graph(self, colour_by: str = "mean_radius") -> Job | None:
        """Add (or replace) the graph layer of the chosen skeleton: built, Shapes layer included, in a job."""
        from types import SimpleNamespace

        skel = self._chosen_skeleton()
        if skel is None:
            return None
        data, mask = _snapshot_of(skel.data), self.source_mask(skel)
        geo = SimpleNamespace(name=skel.name, scale=tuple(skel.scale), translate=tuple(skel.translate))
        meta = {"id": L.new_id(), "source": L.meta_of(skel).get("source"), "of": L.id_of(skel), "kind": "graph"}
        name = f"{skel.name} graph"

        def work(job, report):
            from napari.layers import Shapes

            shapes, kw = L.graph_shapes(data, geo, mask=mask, name=name, colour_by=colour_by, metadata=meta,
                                        callback=job.check)  # a lazy skeleton: read block by block
            job.check()
            return (Shapes(shapes, **kw) if shapes else None), kw["features"]

        def done(out):
            layer, features = out
            for old in [ly for ly in self._layers() if L.meta_of(ly).get("of") == meta["of"]
                        and L.meta_of(ly).get("kind") == "graph"]:
                self.viewer.layers.remove(old)
                yield
            if layer is None:
                self.notify("info", f"{geo.name} is empty: no graph.")
                self._set_status(f"{geo.name} is empty: no graph")
                return
            self.viewer.add_layer(layer)
            shown = [ly for ly in (self.layer(meta["of"]), self.layer(meta["id"])) if ly is not None]
            if shown:
                yield
                self.show_only(shown)  # the graph over its own skeleton; other results hidden
            self._set_legend(colour_by if colour_by in features else "label", features)

        return self._start(Job(f"building the graph of {skel.name}…", "graph", L.id_of(skel)), work, done)

    def _set_legend(self, by, features) -> None:
        self.legend = L.graph_legend(by, features)
        self.events.legend(value=self.legend)
        self._set_status(self.legend["text"])

    def recolour(self, by: str) -> None:
        """Colour every graph layer by the feature ``by``; the legend follows."""
        graphs = [ly for ly in self._layers() if L.meta_of(ly).get("kind") == "graph" and by in ly.features]
        for ly in graphs:
            L.apply_graph_colour(ly, by)
        if graphs:
            self._set_legend(by, graphs[-1].features)

    def prune(self, length: float) -> Job | None:
        """Add (or update) a copy of the chosen skeleton without end branches shorter than ``length``."""
        from ..graph import prune

        skel = self._chosen_skeleton()
        if skel is None:
            return None
        data, spacing = _snapshot_of(skel.data), tuple(np.abs(skel.scale))
        meta = L.meta_of(skel)
        source = self.layer(meta.get("source"))
        geo = source if source is not None else skel
        opts = {**meta.get("options", {}), "prune": length}
        name = f"{skel.name} pruned < {length:g}"
        kw = L.layer_kwargs(name, geo, "skeleton", meta.get("method", "?"), options=opts,
                            source_id=meta.get("source"))
        colours = L.colormap_copy(skel)

        def work(job, report):
            whole = np.asarray(data)
            pruned = prune(whole, length, spacing=spacing, callback=job.check)
            removed = int(np.count_nonzero(whole) - np.count_nonzero(pruned))
            return _result_layer(pruned, kw, "skeleton", colours), removed  # built here, off the GUI thread

        def done(out):
            made, removed = out
            tag = f"{meta.get('tag', meta.get('method'))}, pruned < {length:g}"
            layer = self._put(made, geo, "skeleton", meta.get("method", "?"), opts, name,
                              extra={"tag": tag, "source": meta.get("source"), "pruned_from": L.id_of(skel)})
            yield
            self.show_only([layer])
            self._set_status(f"pruned {skel.name}: {removed} points removed (end branches and stray pieces "
                             f"< {length:g})")

        return self._start(Job(f"pruning {skel.name}…", "prune", meta.get("source")), work, done)

    # -------------------------------------------------------------- export
    def save_skeleton(self, path) -> Job | None:
        """Write the chosen skeleton (tif keeps the voxel size and unit, npy) and its run record, in a job."""
        from .export import save_labels

        skel = self._chosen_skeleton()
        if skel is None:
            return None
        data, scale = _snapshot_of(skel.data), tuple(skel.scale)
        units, metadata = getattr(skel, "units", None), {L.KEY: dict(L.meta_of(skel))}

        def done(paths):
            rec = f" (how it was made: {paths[1].rsplit('/', 1)[-1]})" if len(paths) > 1 else ""
            self.notify("info", f"Saved {skel.name} to {paths[0]}{rec}")
            self._set_status(f"saved {paths[0]}")

        return self._start(Job(f"saving {skel.name}…", "save"),
                           _saving(lambda check: save_labels(path, data, scale=scale, units=units, metadata=metadata)),
                           done)

    def save_graph(self, path) -> Job | None:
        """Write the chosen skeleton as SWC, GraphML or CSV (by ``path``'s extension) and its run record, in a job."""
        from ..io import write_graph
        from ..record import write_record

        skel = self._chosen_skeleton()
        if skel is None:
            return None
        data, scale, mask = _snapshot_of(skel.data), tuple(skel.scale), self.source_mask(skel)
        metadata = {L.KEY: dict(L.meta_of(skel))}

        def write(check):
            out = write_graph(path, data, spacing=scale, mask=mask, overwrite=True, callback=check)
            rec = L.record_for_layer(data, metadata, scale)
            if rec is not None:
                write_record(out, rec)
            return str(out)

        def done(out):
            self.notify("info", f"Saved the graph of {skel.name} to {out}")
            self._set_status(f"saved {out}")

        return self._start(Job(f"saving the graph of {skel.name}…", "save"), _saving(write), done)


def _saving(write):
    """A job's work that writes files (``write(check)``): a failure is the user's to fix (a path, a full disk)."""
    def work(job, report):
        try:
            return write(job.check)
        except (ValueError, OSError) as e:
            raise ValueError(f"Could not save: {e}") from e
    return work
