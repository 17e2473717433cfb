"""What every training run shares: the learning-rate schedule, resumable checkpoints, progress and the card.

A variant's trainer builds its data, network, optimiser and loss and drives
the steps; :class:`Harness` does the rest::

    run = Harness(cfg, net, opt, rng, progress=tqdm, log=print, desc="train 3D")
    extra = run.resume()                  # the variant's own saved state ({} on a fresh start)
    for step in run:                      # the learning rate is set for each step
        ...
        if run.due(step):
            run.save(step, hard=...)      # atomic; everything a resumed run needs
    card = run.finish({...}, command)     # saves cfg.out (weights + card) and cfg.out.json
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..networks.weights import read_card, save_network

__all__ = ["Harness", "lr_at"]


def lr_at(step: int, total: int, lr: float) -> float:
    """The learning rate of ``step`` of ``total``: ``lr``, x0.2 from 60% and again from 85% of training."""
    return lr * (0.2 if step >= 0.6 * total else 1.0) * (0.2 if step >= 0.85 * total else 1.0)


class Harness:
    """One resumable training run of ``cfg`` (a ``TrainConfig``): ``cfg.out`` with suffix ``.ckpt`` holds the
    weights of ``net``, the optimiser, the step, both random states and the variant's own state.

    Parameters
    ----------
    cfg : TrainConfig
    net : torch.nn.Module
        The network whose weights are checkpointed and shipped.
    opt : torch.optim.Optimizer
    rng : numpy.random.Generator
        The run's data random state (saved and restored with torch's).
    progress : callable, optional
        A tqdm-like wrapper for the step range.
    log : callable
        Receives one line per checkpoint and on resume.
    desc : str
        The progress bar's label.
    """

    def __init__(self, cfg, net, opt, rng, *, progress=None, log=print, desc: str = "train"):
        self.cfg, self.net, self.opt, self.rng = cfg, net, opt, rng
        self.progress, self.log, self.desc = progress, log, desc
        self.path = Path(cfg.out).with_suffix(".ckpt")
        self.start = 0
        self.started = time.time()
        self.losses: list[float] = []
        self._bar = None

    def resume(self) -> dict:
        """Load the checkpoint if there is one; returns the variant's saved state (``{}`` on a fresh start)."""
        if not self.path.is_file():
            return {}
        ck = torch.load(self.path, weights_only=False, map_location="cpu")
        self.net.load_state_dict(ck.pop("net"))
        self.opt.load_state_dict(ck.pop("opt"))
        self.start = ck.pop("step")
        self.rng.bit_generator.state = ck.pop("rng")
        torch.set_rng_state(ck.pop("torch_rng"))
        self.log(f"resumed from {self.path} at step {self.start}")
        return ck

    def __iter__(self):
        steps = range(self.start, self.cfg.steps)
        self._bar = (self.progress(steps, desc=self.desc, initial=self.start, total=self.cfg.steps)
                     if self.progress else steps)
        for step in self._bar:
            for g in self.opt.param_groups:
                g["lr"] = lr_at(step, self.cfg.steps, self.cfg.lr)
            yield step

    def record(self, loss: float, **postfix) -> None:
        """Note a step's loss (shown on the progress bar as a running mean)."""
        self.losses.append(float(loss))
        if hasattr(self._bar, "set_postfix"):
            self._bar.set_postfix(loss=f"{np.mean(self.losses[-20:]):.5f}", **postfix)

    def mean_loss(self, last: int = 50) -> float:
        return float(np.mean(self.losses[-last:])) if self.losses else float("nan")

    def due(self, step: int) -> bool:
        """Whether a checkpoint is due after ``step`` (every ``cfg.checkpoint_every`` steps, and after the last)."""
        return (step + 1) % self.cfg.checkpoint_every == 0 or step + 1 == self.cfg.steps

    def save(self, step: int, **extra) -> None:
        """Write the checkpoint after ``step`` atomically; ``extra`` is the variant's own state."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        torch.save({"net": self.net.state_dict(), "opt": self.opt.state_dict(), "step": step + 1,
                    "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(), **extra}, tmp)
        tmp.replace(self.path)

    def elapsed(self) -> float:
        return time.time() - self.started

    def finish(self, card: dict, command: str | None, device="cpu") -> dict:
        """Save ``cfg.out`` (weights and card) and ``cfg.out.json``; returns the full card.

        The card gets what every run records: command, configuration, steps,
        samples, wall time, parameter count, torch and Python versions, device.
        """
        full = {"command": command, "config": asdict(self.cfg), **card,
                "samples": self.cfg.samples, "steps": self.cfg.steps,
                "wall_time_s": round(self.elapsed(), 1),
                "parameters": sum(p.numel() for p in self.net.parameters()),
                "torch": torch.__version__, "device": str(device), "python": platform.python_version()}
        save_network(self.net, self.cfg.out, full)
        Path(self.cfg.out).with_suffix(".json").write_text(json.dumps(read_card(self.cfg.out), indent=2))
        return full
