"""Training the ``subfield`` variant (:mod:`napari_skelite.skelite.subfield`) by per-pass teacher forcing.

Every pass of the Boolean teacher on a synthetic volume is a set of
independent examples: at each candidate, the input window the network would
see and the teacher's decision (delete exactly the deletable points). Windows
are binary, stored as ``uint8`` and augmented with the symmetries of the
square (8) or cube (48), under which simplicity and end points are invariant.
"""
from __future__ import annotations

import itertools
import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..device import resolve_device
from ..metrics import betti_errors, betti_numbers, coverage, thinness
from ..skelite.subfield import (
    SubfieldNet,
    _window_offsets,
    pass_inputs,
    subfield_thin,
    teacher_passes,
)
from ..skelite.weights import read_card, save_network
from ..topology.thinning import thin
from .data import DataConfig, _seed, make_masks
from .evaluate import held_out_kwargs

__all__ = ["window_dataset", "symmetry_indices", "train_subfield", "window_errors", "validate_subfield"]


def symmetry_indices(ndim: int) -> torch.Tensor:
    """``(8 | 48, 3**ndim)``: for each symmetry of the square/cube, the window position each output reads."""
    grid = np.array(list(itertools.product((0, 1, 2), repeat=ndim)))
    out = []
    for perm in itertools.permutations(range(ndim)):
        for flips in itertools.product((False, True), repeat=ndim):
            g = grid[:, perm].copy()
            g[:, list(flips)] = 2 - g[:, list(flips)]
            out.append(np.ravel_multi_index(g.T, (3,) * ndim))
    return torch.as_tensor(np.array(out))


def window_dataset(masks, per_class: int, rng: np.random.Generator, progress=None):
    """Training windows from the teacher's passes on ``masks``.

    Returns ``(windows (N, 3, 3**ndim) uint8, target (N,) uint8)``: up to
    ``per_class`` deletions and ``per_class`` kept candidates per volume.
    """
    xs, ys = [], []
    it = progress(masks, desc="teacher passes") if progress else masks
    for m in it:
        t = torch.as_tensor(np.ascontiguousarray(m)).bool()
        vol_x, vol_y = [], []
        window = None
        for grid, flat, cand, deletable in teacher_passes(t):
            if window is None:
                window = _window_offsets(grid)
            x = pass_inputs(grid, flat, cand, deletable, window)
            vol_x.append(x.reshape(len(cand), 3, -1).to(torch.uint8))
            vol_y.append(deletable.to(torch.uint8))
        if not vol_x:
            continue
        x, y = torch.cat(vol_x), torch.cat(vol_y)
        for cls in (0, 1):
            idx = torch.nonzero(y == cls).squeeze(1).numpy()
            if len(idx) > per_class:
                idx = rng.choice(idx, per_class, replace=False)
            xs.append(x[idx])
            ys.append(y[idx])
    return torch.cat(xs), torch.cat(ys)


def _batch(windows, target, batch, sym, rng, ndim):
    idx = torch.as_tensor(rng.integers(0, len(windows), batch))
    s = sym[torch.as_tensor(rng.integers(0, len(sym), batch))]  # (B, K)
    w = windows[idx].float()
    w = torch.gather(w, 2, s[:, None, :].expand(-1, w.shape[1], -1))
    return w.reshape((batch, 3) + (3,) * ndim), target[idx].float()


def window_errors(net: SubfieldNet, windows, target, block: int = 1 << 16) -> dict:
    """Share of kept candidates the network deletes (``false_delete``: the topology-breaking error)
    and of deletions it keeps (``false_keep``), on held-out windows."""
    preds = []
    dev = next(net.parameters()).device
    with torch.no_grad():
        for i in range(0, len(windows), block):
            w = windows[i:i + block].float().to(dev)
            preds.append((net.window_logits(w.reshape((len(w), 3) + (3,) * net.ndim)) > 0).cpu())
    p = torch.cat(preds)
    keep, dele = target == 0, target == 1
    return {"false_delete": float(p[keep].float().mean()), "false_keep": float((~p[dele]).float().mean()),
            "kept": int(keep.sum()), "deleted": int(dele.sum())}


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
    agg["share_meeting_targets"] = float(np.mean([meets_subfield_targets(r) for r in rows]))
    agg.update(n=n, seed=seed)
    return agg


def meets_subfield_targets(m: dict) -> bool:
    """Per-volume targets of the plain 3D network (Betti errors, thinness, size and coverage vs Boolean)."""
    return (m["b0_error"] <= max(1, 0.05 * m["b0"]) and m["b1_error"] <= max(1, 0.10 * m["b1"])
            and m["thinness"] <= 0.01 and m["size_vs_boolean"] <= 1.2 and m["coverage_boolean"] >= 0.95)


def _lr_at(step, total, lr):
    return lr * (0.2 if step >= 0.6 * total else 1.0) * (0.2 if step >= 0.85 * total else 1.0)


def train_subfield(cfg, progress=None, log=print, command: str | None = None) -> dict:
    """Train a :class:`SubfieldNet` as ``cfg`` (a ``TrainConfig``) says; save ``cfg.out`` with its card.

    Resumable: ``cfg.out`` with suffix ``.ckpt`` holds the weights, the optimiser
    and both random states, written every ``cfg.checkpoint_every`` steps.
    """
    t_start = time.time()
    dev = resolve_device(cfg.device)  # an unavailable device fails before any work
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    per_class = int(cfg.data.get("per_class", 2000))
    dcfg = DataConfig.for_dim(cfg.ndim, **{k: v for k, v in cfg.data.items() if k != "per_class"})
    masks = make_masks(dcfg, cfg.samples, cfg.seed)
    data_rng = np.random.default_rng(_seed(cfg.seed, -1))
    windows, target = window_dataset(masks, per_class, data_rng, progress)
    vcfg = DataConfig.for_dim(cfg.ndim, **held_out_kwargs(cfg.ndim))
    val_w, val_t = window_dataset(make_masks(vcfg, cfg.val_samples, cfg.seed + 10_000), 10**9,
                                  np.random.default_rng(0))
    log(f"{len(windows)} training windows ({int(target.sum())} deletions), {len(val_w)} held-out windows")
    net = SubfieldNet(cfg.ndim).to(dev)  # before the optimiser: a loaded Adam state follows its parameters
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sym = symmetry_indices(cfg.ndim)
    ckpt_path = Path(cfg.out).with_suffix(".ckpt")
    start, history, val_log = 0, [], []
    if ckpt_path.is_file():
        ck = torch.load(ckpt_path, weights_only=False, map_location="cpu")
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        start = ck["step"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        val_log = ck.get("val_log", [])
        log(f"resumed from {ckpt_path} at step {start}")
    it = range(start, cfg.steps)
    bar = progress(it, desc=f"train {cfg.ndim}D subfield", initial=start, total=cfg.steps) if progress else it
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, cfg.steps, cfg.lr)
        x, y = _batch(windows, target, cfg.batch, sym, rng, cfg.ndim)
        x, y = x.to(dev), y.to(dev)
        logit = net.window_logits(x)
        weight = torch.where(y == 0, cfg.keep_weight, 1.0)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y, weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
        if progress and hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{np.mean(history[-20:]):.5f}")
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            err = window_errors(net, val_w, val_t)
            val_log.append({"step": step + 1, "loss": float(np.mean(history[-50:])), **err})
            ckpt_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = ckpt_path.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step + 1,
                        "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "val_log": val_log}, tmp)
            tmp.replace(ckpt_path)
            log(f"step {step + 1}/{cfg.steps} loss {val_log[-1]['loss']:.5f} held-out windows: "
                f"false deletions {err['false_delete']:.2e}, false keeps {err['false_keep']:.2e} "
                f"({time.time() - t_start:.0f}s)")
    net.cpu().eval()
    card = {
        "variant": "subfield",
        "command": command,
        "config": asdict(cfg),
        "data_config": asdict(dcfg),
        "teacher": "Boolean thinning (methods.boolean), one example per candidate of every subfield pass",
        "training_windows": int(len(windows)), "per_class_per_volume": per_class,
        "samples": cfg.samples, "steps": cfg.steps,
        "wall_time_s": round(time.time() - t_start, 1),
        "parameters": sum(p.numel() for p in net.parameters()),
        "torch": torch.__version__, "python": platform.python_version(),
        "held_out_windows": val_log[-1] if val_log else None,
        "validation": validate_subfield(net, cfg.ndim, seed=cfg.seed + 10_000, n=cfg.val_samples),
        "small_check": validate_subfield(net, cfg.ndim, seed=424242, n=2),
    }
    save_network(net, cfg.out, card)
    Path(cfg.out).with_suffix(".json").write_text(json.dumps(read_card(cfg.out), indent=2))
    return card
