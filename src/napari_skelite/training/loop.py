"""Training of Skelite weights: per-iteration distillation of a teacher thinning, then unrolled fine-tuning.

Targets. Iteration ``k`` of Skelite judges the band of points at city-block
depth ``2k-1..2k`` exactly once, so the only states it can reach are
``S_k = C_k  U  (judged points it kept)``. The teacher-forced state is
therefore ``S_{k-1} = C_{k-1} U (I & T)`` and the target deletion in band
``k`` is ``band_k & ~T``, with ``T`` the teacher's final skeleton. Every
step is an independent example (cheap on CPU). The unrolled phase then runs
the full loop on the student's own states.
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from ..device import resolve_device
from ..networks.network import Skelite, SkeliteNet
from ..networks.weights import load_network, read_card
from ..ops import cross_erode
from . import objectives
from .config import TrainConfig
from .data import DataConfig, make_dataset, random_crops, teacher_description
from .evaluate import small_check, validate
from .harness import Harness
from .subfield import train_subfield
from .windows import window_bce

__all__ = ["TrainConfig", "teacher_forcing_batch", "train"]


def teacher_forcing_batch(mask, skel, outside: float = 1.0):
    """All per-iteration examples of a batch of crops.

    Parameters
    ----------
    mask, skel : (B, 1, *spatial) float tensors (input and teacher skeleton)

    Returns
    -------
    x : (K, 3, *spatial) inputs ``(band, C, S)``; band : (K, 1, *spatial); target : (K, 1, *spatial)
    """
    xs, bands, targets = [], [], []
    c = mask
    while True:
        inner = cross_erode(cross_erode(c, outside), outside)
        band = c - inner
        keep = band.flatten(1).sum(1) > 0
        if not bool(keep.any()):
            break
        s = c + (mask - c) * skel
        xs.append(torch.cat([band, c, s], 1)[keep])
        bands.append(band[keep])
        targets.append((band * (1 - skel))[keep])
        c = inner
    return torch.cat(xs), torch.cat(bands), torch.cat(targets)


def _extra_weights(cfg, state, band, target):
    """Per-point extra BCE weights of the point classes that have a weight, or ``None``."""
    extra = None
    for weight, points in ((cfg.topo_weight, objectives.critical_points), (cfg.hole_weight, objectives.hole_points),
                           (cfg.stray_weight, objectives.stray_points)):
        if weight:
            term = weight * points(state, band, target)
            extra = term if extra is None else extra + term
    return extra


def _unrolled(model, m, guard_weight: float = 0.0):
    """Run the student's loop on ``m``; returns the final soft skeleton and the weighted guard loss."""
    topo = m.new_zeros(())
    sk = m
    before = m
    for sk in model.iterate(m):
        if guard_weight:
            topo = topo + guard_weight * objectives.guard_loss(sk, objectives.refused_deletions(before, sk), m)
        before = sk
    return sk, topo


def train(cfg: TrainConfig, progress=None, log=print, command: str | None = None) -> dict:
    """Train and save ``cfg.out`` with its model card; returns the card.

    ``command`` is the command line recorded in the card. The random state of
    the calling process is left as it was (the run seeds its own from
    ``cfg.seed``); the number of torch threads is the caller's to set
    (``cfg.threads`` is recorded; the CLI applies it).
    """
    with torch.random.fork_rng(devices=[]):
        if cfg.variant == "subfield":
            return train_subfield(cfg, progress, log, command)
        return _train_paper(cfg, progress, log, command)


def _train_paper(cfg: TrainConfig, progress, log, command: str | None) -> dict:
    dev = resolve_device(cfg.device)  # an unavailable device fails before any work
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dcfg = DataConfig.for_dim(cfg.ndim, **cfg.data)
    masks, skels = make_dataset(dcfg, cfg.samples, cfg.seed, cfg.cache, progress)
    init_card = None
    if cfg.init:
        net = load_network(cfg.init, cfg.ndim)
        c = read_card(cfg.init)
        init_card = {k: c.get(k) for k in ("command", "command_in_repo", "steps", "samples", "wall_time_s", "validation")}
    else:
        net = SkeliteNet(cfg.ndim)
    model = Skelite(cfg.ndim, net, outside=dcfg.outside).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    run = Harness(cfg, model.net, opt, rng, progress=progress, log=log, desc=f"train {cfg.ndim}D")
    run.resume()
    n_tf = int(cfg.steps * (1 - cfg.unrolled_fraction))
    model.train()
    for step in run:
        unrolled = step >= n_tf
        batch = cfg.unrolled_batch if unrolled and cfg.unrolled_batch else cfg.batch
        m, s = random_crops(masks, skels, dcfg.crop, batch, rng)
        m, s = m.to(dev), s.to(dev)
        if not unrolled:
            x, band, target = teacher_forcing_batch(m, s, dcfg.outside)
            extra = _extra_weights(cfg, x[:, 2:3], band, target)
            if cfg.window_rates is not None:
                # sampled windows: the band BCE in expectation; no thinness term (it needs
                # every neighbour's decision), the unrolled phase keeps it
                loss, _ = window_bce(model.net, x, band, target, cfg.window_rates, rng,
                                     cfg.keep_weight, cfg.balance, extra)
            else:
                logits = model.net(x)
                loss = objectives.band_bce(logits, band, target, cfg.keep_weight, cfg.balance, extra)
                # thinness of the state this step produces
                s_new = x[:, 2:3] - torch.sigmoid(logits) * band
                loss = loss + cfg.thin_weight * objectives.thinness_loss(s_new)
        else:
            sk, topo = _unrolled(model, m, cfg.guard_weight)
            if cfg.stray_weight:
                topo = topo + cfg.stray_weight * objectives.stray_loss(sk, s, m)
            loss = (topo
                    + objectives.skeleton_bce(sk, s, m, cfg.keep_weight, cfg.balance)
                    + cfg.thin_weight * objectives.thinness_loss(sk)
                    + cfg.cldice_weight * objectives.soft_cldice(sk, m, s, m))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.record(loss.detach(), phase="tf" if step < n_tf else "unrolled")
        if run.due(step):
            run.save(step)
            log(f"step {step + 1}/{cfg.steps} loss {run.mean_loss():.4f} ({run.elapsed():.0f}s)")
    model.eval()
    model.to("cpu")  # validation, card and file on the CPU: the weights load anywhere
    metrics = validate(model.net, cfg.ndim, seed=cfg.seed + 10_000, n=cfg.val_samples)
    card = {
        "data_config": asdict(dcfg),
        "teacher": teacher_description(dcfg),
        "validation": metrics,
        "small_check": small_check(model.net, cfg.ndim),
    }
    if init_card is not None:
        card["init"] = {"path": str(cfg.init), **init_card}
    return run.finish(card, command, dev)
