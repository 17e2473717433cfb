"""Training the ``subfield`` variant (:mod:`napari_skelite.networks.subfield`) from raw windows.

Examples are candidates of the Boolean teacher's subfield passes: the
neighbourhood code of the current state, the end bit marked at the
iteration's start, and the teacher's decision (delete exactly the simple
points that are not end points). Three sources fill each batch:

- windows the teacher meets on synthetic images of several kinds (tubes, blobs,
  plates, thin shells, speckle; :func:`~napari_skelite.training.data.make_shapes`),
  augmented with the symmetries of the square (8) or cube (48), under which
  simplicity and end points are invariant;
- windows drawn from the whole window table at random densities;
- hard windows: those the network got wrong in the last check of the window
  table (:func:`~napari_skelite.networks.subfield.window_table_errors`), with
  their symmetric images.

Training runs in rounds of ``checkpoint_every`` steps; each round ends with a
check of a part of the window table (all of it in 2D, one eighth in 3D, a
different eighth each round), whose errors become the next hard windows, and
a resumable checkpoint. Stopping rule, fixed before training: run all
``steps``; then check the whole table at threshold 0 and, if any
non-deletable window is deleted, set the network's threshold just above the
largest logit of a non-deletable window (the smallest threshold with no
wrong deletion), and check the whole table again at that threshold. The card
records both checks and the held-out window and volume metrics.
"""
from __future__ import annotations

import numpy as np
import torch

from ..device import resolve_device
from ..metrics import betti_errors, betti_numbers, coverage, thinness
from ..networks.subfield import (
    SubfieldNet,
    _border_codes,
    code_windows,
    permute_codes,
    subfield_thin,
    symmetry_permutations,
    teacher_passes,
    window_table_errors,
)
from ..topology.simple import simple_point_lut
from ..topology.thinning import thin
from .config import PER_CLASS
from .data import DataConfig, make_masks, make_shapes
from .evaluate import held_out_kwargs
from .harness import Harness

__all__ = [
    "THRESHOLD_MARGIN",
    "table_windows",
    "train_subfield",
    "validate_subfield",
    "window_dataset",
    "window_errors",
]

#: the calibrated threshold sits this far above the largest logit of a non-deletable window
THRESHOLD_MARGIN = 0.05
#: share of each batch drawn from the data, the window table and the hard windows
_MIX = (0.5, 0.25, 0.25)
_HARD_MAX = 400_000


def window_dataset(masks, per_class: int, rng: np.random.Generator, progress=None):
    """Training windows from the teacher's passes on ``masks``.

    Returns ``(codes (N,) int64, end (N,) bool, delete (N,) bool)``: up to
    ``per_class`` deletions and ``per_class`` kept candidates per image.
    """
    cs, es, ys = [], [], []
    it = progress(masks, desc="teacher passes") if progress else masks
    for m in it:
        parts = list(teacher_passes(torch.as_tensor(np.ascontiguousarray(m)).bool()))
        if not parts:
            continue
        c, e, y = (torch.cat(p) for p in zip(*parts))
        for cls in (False, True):
            idx = torch.nonzero(y == cls).squeeze(1).numpy()
            if len(idx) > per_class:
                idx = np.sort(rng.choice(idx, per_class, replace=False))
            cs.append(c[idx])
            es.append(e[idx])
            ys.append(y[idx])
    if not cs:
        z = torch.zeros(0, dtype=torch.long)
        return z, z.bool(), z.bool()
    return torch.cat(cs), torch.cat(es), torch.cat(ys)


def _targets(codes: torch.Tensor, end: torch.Tensor, ndim: int) -> torch.Tensor:
    """The teacher's decision: simple and not an end point."""
    return simple_point_lut(ndim, "cpu")(codes).bool() & ~end if len(codes) else end


def table_windows(ndim: int, n: int, rng: np.random.Generator):
    """``n`` random candidate windows of the whole table: ``(codes, end, delete)``.

    Each window's points are set at its own random density; a window whose face
    neighbours are all set gets one cleared (candidates are border points);
    windows of at most one neighbour get the end bit half of the time.
    """
    faces, nbits = _border_codes(ndim)
    p = rng.uniform(0.02, 0.98, (n, 1))
    bits = rng.random((n, nbits)) < p
    codes = torch.as_tensor((bits.astype(np.int64) << np.arange(nbits)).sum(1))
    face_bits = [i for i in range(nbits) if faces >> i & 1]
    full = (codes & faces) == faces
    clear = torch.as_tensor(np.array(face_bits)[rng.integers(0, len(face_bits), n)])
    codes = torch.where(full, codes & ~(1 << clear), codes)
    few = (((codes[:, None] >> torch.arange(nbits)) & 1).sum(1)) <= 1
    end = few & torch.as_tensor(rng.random(n) < 0.5)
    return codes, end, _targets(codes, end, ndim)


def window_errors(net: SubfieldNet, codes, end, target) -> dict:
    """Share of kept candidates the network deletes (``false_delete``: the topology-breaking error)
    and of deletions it keeps (``false_keep``), on held-out windows."""
    dev = net.threshold.device
    with torch.no_grad():
        p = (net.code_logits(codes.to(dev), end.to(dev)) > net.threshold).cpu()
    keep, dele = ~target, target
    return {"false_delete": float(p[keep].float().mean()) if keep.any() else 0.0,
            "false_keep": float((~p[dele]).float().mean()) if dele.any() else 0.0,
            "false_delete_count": int(p[keep].sum()), "kept": int(keep.sum()), "deleted": int(dele.sum())}


def validate_subfield(net: SubfieldNet, ndim: int, seed: int, n: int) -> dict:
    """Whole-volume metrics of the plain network on held-out synthetic data, against the Boolean skeleton."""
    dcfg = DataConfig.for_dim(ndim, **held_out_kwargs(ndim))
    rows = []
    for m in make_masks(dcfg, n, seed):
        t = torch.as_tensor(m).bool()
        sk = subfield_thin(net, t).numpy()
        ref = thin(t).numpy()
        b = betti_numbers(m)
        e0, e1 = betti_errors(sk, m)
        rows.append({"b0": int(b[0]), "b1": int(b[1]), "b0_error": int(e0), "b1_error": int(e1),
                     "thinness": thinness(sk), "coverage_boolean": coverage(sk, ref, 2),
                     "size_vs_boolean": float(sk.sum() / max(1, ref.sum()))})
    agg = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    agg["max_b0_error"] = max(r["b0_error"] for r in rows)
    agg["max_b1_error"] = max(r["b1_error"] for r in rows)
    agg["max_size_vs_boolean"] = max(r["size_vs_boolean"] for r in rows)
    agg.update(n=n, seed=seed)
    return agg


class _Sampler:
    """Draws mixed batches (data, table, hard windows) as float windows with targets."""

    def __init__(self, ndim, data, rng):
        self.ndim = ndim
        self.codes, self.end, self.target = data
        self.rng = rng
        self.perm = symmetry_permutations(ndim)
        self.hard = torch.zeros(0, dtype=torch.long)

    def add_hard(self, codes: torch.Tensor) -> None:
        if not len(codes):
            return
        if len(codes) > _HARD_MAX // 2:
            codes = codes[torch.as_tensor(self.rng.choice(len(codes), _HARD_MAX // 2, replace=False))]
        pool = torch.cat([codes, self.hard])
        self.hard = pool[:_HARD_MAX]

    def batch(self, n: int):
        n_data = int(n * _MIX[0])
        n_hard = int(n * _MIX[2]) if len(self.hard) else 0
        n_table = n - n_data - n_hard
        idx = torch.as_tensor(self.rng.integers(0, len(self.codes), n_data))
        c, e = self.codes[idx], self.end[idx]
        tc, te, _ = table_windows(self.ndim, n_table, self.rng)
        hc = self.hard[torch.as_tensor(self.rng.integers(0, len(self.hard), n_hard))] if n_hard else tc[:0]
        codes = torch.cat([c, tc, hc])
        end = torch.cat([e, te, torch.zeros(n_hard, dtype=torch.bool)])
        sym = self.perm[torch.as_tensor(self.rng.integers(0, len(self.perm), len(codes)))]
        codes = permute_codes(codes, sym)
        return code_windows(codes, self.ndim), end, _targets(codes, end, self.ndim).float()


#: codes per block of a window-table check
_TABLE_BLOCK = {2: 1 << 8, 3: 1 << 17}


def _check(net, ndim, round_):
    """A round's check of the window table: all of it in 2D, one eighth in 3D (a different one each round)."""
    parts = 1 if ndim == 2 else 8
    return window_table_errors(net, block=_TABLE_BLOCK[ndim], collect=-1.0, part=(round_ % parts, parts))


def train_subfield(cfg, progress=None, log=print, command: str | None = None) -> dict:
    """Train a :class:`SubfieldNet` as ``cfg`` (a ``TrainConfig``) says; save ``cfg.out`` with its card.

    Resumable (:class:`~napari_skelite.training.harness.Harness`): the
    checkpoint also holds the hard windows and the round log.
    """
    dev = resolve_device(cfg.device)  # batches are drawn on the CPU, the network trains on ``dev``
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    per_class = int(cfg.data.get("per_class", PER_CLASS))
    masks = make_shapes(cfg.ndim, cfg.samples, cfg.seed)
    data = window_dataset(masks, per_class, np.random.default_rng(cfg.seed + 1), progress)
    held = window_dataset(make_shapes(cfg.ndim, cfg.val_samples, cfg.seed + 10_000), 10**9,
                          np.random.default_rng(0))
    log(f"{len(data[0])} training windows ({int(data[2].sum())} deletions) from {cfg.samples} images; "
        f"{len(held[0])} held-out windows")
    net = SubfieldNet(cfg.ndim, cfg.data.get("width")).to(dev)  # before the optimiser (its state follows)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sampler = _Sampler(cfg.ndim, data, rng)
    run = Harness(cfg, net, opt, rng, progress=progress, log=log, desc=f"train {cfg.ndim}D subfield")
    saved = run.resume()
    if saved:
        sampler.hard = saved["hard"].long()
    val_log = saved.get("val_log", [])
    for step in run:
        x, end, y = (t.to(dev) for t in sampler.batch(cfg.batch))
        logit = net.window_logits(x, end)
        weight = torch.where(y == 0, cfg.keep_weight, 1.0)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y, weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.record(loss.detach())
        if run.due(step):
            net.eval()
            chk = _check(net, cfg.ndim, (step + 1) // cfg.checkpoint_every)
            sampler.add_hard(torch.cat([chk.pop("hard_delete"), chk.pop("hard_keep")[:20_000]]))
            err = window_errors(net, *held)
            val_log.append({"step": step + 1, "loss": run.mean_loss(100), "held_out": err, "table_part": chk})
            net.train()
            run.save(step, hard=sampler.hard.to(torch.int32), val_log=val_log)
            log(f"step {step + 1}/{cfg.steps} loss {val_log[-1]['loss']:.5f} | held-out windows: false deletions "
                f"{err['false_delete_count']}/{err['kept']}, false keeps {err['false_keep']:.2e} | table part: "
                f"false deletions {chk['false_delete']}, false keeps {chk['false_keep']} of {chk['windows']}; "
                f"hard pool {len(sampler.hard)} ({run.elapsed():.0f}s)")
    net.eval()
    block = _TABLE_BLOCK[cfg.ndim]
    with torch.no_grad():
        net.threshold.fill_(0.0)
    at_zero = window_table_errors(net, block=block)
    log(f"whole table at threshold 0: {at_zero['false_delete']} false deletions, {at_zero['false_keep']} "
        f"false keeps of {at_zero['windows']}")
    shipped = at_zero  # the threshold stays at 0 unless a non-deletable window was deleted
    if at_zero["false_delete"]:
        with torch.no_grad():
            net.threshold.fill_(at_zero["max_nondeletable_logit"] + THRESHOLD_MARGIN)
        shipped = window_table_errors(net, block=block)
    log(f"whole table at threshold {float(net.threshold):.4f}: {shipped['false_delete']} false deletions, "
        f"{shipped['false_keep']} false keeps")
    net.cpu()  # validation, card and file on the CPU: the weights load anywhere
    return run.finish({
        "variant": "subfield",
        "reads": "the 3x3(x3) window of the current state and the end-point bit marked at the iteration's start",
        "teacher": "Boolean thinning (methods.boolean): delete exactly the simple points that are not end points",
        "data": "make_shapes: tubes, blobs, plates, thin shells, speckle (in turn), with boundary noise; "
                "plus random windows of the whole table and the hard windows of each round's table check",
        "training_windows": len(data[0]), "per_class_per_image": per_class, "width": net.width,
        "threshold": float(net.threshold),
        "window_table_at_zero": at_zero,
        "window_table": shipped,
        "held_out_windows": window_errors(net, *held),
        "rounds": val_log,
        "validation": validate_subfield(net, cfg.ndim, seed=cfg.seed + 10_000, n=cfg.val_samples),
        "small_check": validate_subfield(net, cfg.ndim, seed=424242, n=2),
    }, command, dev)
