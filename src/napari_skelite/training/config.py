"""Training options: one :class:`TrainConfig`, made from a JSON recipe and the command line's few flags.

A recipe (``napari-skelite train --config FILE.json``) is a JSON object of
option names and values: the fields of :class:`TrainConfig`, with the options
of the synthetic data in ``"data"`` (or beside the others). A weights card
(the ``.json`` beside a trained file) is a recipe too: its recorded
``config`` trains the same weights again. ``napari-skelite train
--print-config`` prints every option with the value a command would train with.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..networks.weights import VARIANTS
from .data import DataConfig

__all__ = ["PER_CLASS", "TrainConfig", "data_options", "full_config", "make_config", "read_recipe", "recipe_text"]

#: training windows per class and image of the subfield variant (its ``data`` option ``per_class``)
PER_CLASS = 2000
#: the subfield variant's ``data`` options (it draws its own shapes; :class:`DataConfig` is the paper variant's)
_SUBFIELD_DATA = ("per_class", "width")
#: the names the options had as command-line flags, still read in recipes
_ALIASES = {"dim": "ndim", "curves": "n_curves"}


@dataclass
class TrainConfig:
    """Every option of one training run; a weights card records it as ``config``.

    ``data`` holds the options of the synthetic data (:func:`data_options` of
    the variant); ``out=None`` is ``weights/skelite_<ndim>d.pt``.
    """

    ndim: int = 2
    out: str | None = None
    seed: int = 0
    steps: int = 1500            # total optimiser steps
    unrolled_fraction: float = 0.3
    batch: int = 16              # crops per step
    samples: int = 2000          # generated images/volumes
    val_samples: int = 32
    lr: float = 1e-3             # initial learning rate (x0.2 at 60% and 85% of the steps)
    weight_decay: float = 1e-7
    keep_weight: float = 2.0     # BCE weight of skeleton points against deletions
    balance: bool = False        # average kept and deleted points as separate classes
    thin_weight: float = 2.0     # weight of the 2x2(x2) thinness loss
    topo_weight: float = 0.0     # extra BCE weight of kept points whose deletion would change the topology
    hole_weight: float = 0.0     # extra BCE weight of kept points whose deletion would punch a one-point hole
    guard_weight: float = 0.0    # unrolled: weight of keeping the deletions the topology guard refuses
    stray_weight: float = 0.0    # extra weight of deleting points that would be left isolated (both phases)
    cldice_weight: float = 0.2
    threads: int = 1
    cache: str | None = None     # folder to cache generated teacher targets
    checkpoint_every: int = 100
    data: dict = field(default_factory=dict)
    init: str | None = None      # start from these weights (fine-tuning) instead of random ones
    device: str = "cpu"          # where the network trains ("auto", "cpu", "cuda"); data stays on the CPU
    # teacher forcing on sampled 7x7(x7) windows instead of whole crops: (near, far) sampling
    # rates of deletions near a kept point and of the others (training.windows); None: whole crops
    window_rates: tuple | None = None
    unrolled_batch: int | None = None  # crops per unrolled step (default: batch)
    variant: str = "paper"       # "paper" or "subfield" (training.subfield)

    def __post_init__(self):
        _check_types(self)
        if self.ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3; got {self.ndim}.")
        if self.out is None:
            self.out = f"weights/skelite_{self.ndim}d.pt"
        for name in ("steps", "batch", "samples", "val_samples", "threads", "checkpoint_every", "unrolled_batch"):
            if getattr(self, name) is None:
                continue
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}.")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {self.variant!r}.")
        if not 0 <= self.unrolled_fraction <= 1:
            raise ValueError(f"unrolled_fraction must be within [0, 1]; got {self.unrolled_fraction}.")
        if self.window_rates is not None:
            self.window_rates = tuple(float(r) for r in self.window_rates)
            if len(self.window_rates) != 2 or not all(0 < r <= 1 for r in self.window_rates):
                raise ValueError(f"window_rates must be two rates within (0, 1]; got {self.window_rates}.")


#: options that may be None (``out``: the default file)
_OPTIONAL = ("out", "cache", "init", "window_rates", "unrolled_batch")
_STRINGS = ("out", "cache", "init", "device", "variant")


def _check_types(cfg: TrainConfig) -> None:
    """Refuse a value of the wrong type or a non-finite number, naming the option (before any work)."""
    for f in fields(cfg):
        value, default = getattr(cfg, f.name), f.default
        if value is None and f.name in _OPTIONAL:
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "true or false"
        elif f.name == "unrolled_batch" or isinstance(default, int):  # bool is handled above
            ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            kind = "a finite number"
        elif f.name in _STRINGS:
            ok, kind = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise ValueError(f"{f.name} must be {kind}; got {value!r}.")
    if cfg.lr <= 0:
        raise ValueError(f"lr must be above 0; got {cfg.lr}.")
    for name in [f.name for f in fields(cfg) if f.name.endswith("_weight") or f.name == "weight_decay"]:
        if getattr(cfg, name) < 0:
            raise ValueError(f"{name} must be 0 or more; got {getattr(cfg, name)}.")


_FIELDS = {f.name: f for f in fields(TrainConfig)}
_PAPER_DATA = tuple(f.name for f in fields(DataConfig) if f.name != "ndim")


def data_options(variant: str) -> tuple[str, ...]:
    """The ``data`` options the ``variant`` reads (those of :class:`DataConfig` for the paper variant)."""
    return _SUBFIELD_DATA if variant == "subfield" else _PAPER_DATA


def _split(options: Mapping) -> dict:
    """``options`` with the flags' former names renamed and the data options gathered in ``data``.

    Raises
    ------
    ValueError
        For a name that is no option (the message lists the known ones).
    """
    out, data = {}, {}
    for key, value in options.items():
        key = _ALIASES.get(key, key)
        if key == "data":
            if not isinstance(value, Mapping):
                raise ValueError(f"data must be a JSON object of data options; got {value!r}.")
            for k, v in value.items():
                k = _ALIASES.get(k, k)
                if k not in _PAPER_DATA + _SUBFIELD_DATA:
                    raise ValueError(f"unknown data option {k!r}; known: {', '.join(_PAPER_DATA + _SUBFIELD_DATA)}.")
                data[k] = v
        elif key in _PAPER_DATA or key in _SUBFIELD_DATA:
            data[key] = value
        elif key in _FIELDS:
            out[key] = value
        else:
            known = sorted(set(_FIELDS) - {"data"} | set(_PAPER_DATA + _SUBFIELD_DATA))
            raise ValueError(f"unknown option {key!r}; known: {', '.join(known)}.")
    return out | ({"data": data} if data else {})


def _typed(default, value):
    """``value`` as the type of ``default``: a number where a float is expected, a tuple for a list."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(_typed(default[0], v) for v in value) if default else tuple(value)
    return value


def read_recipe(path) -> dict:
    """The options in the JSON file ``path``: an object of option names and values, or a weights card.

    Raises
    ------
    ValueError
        For an unreadable file, a file that holds no JSON object, or an unknown option name.
    """
    try:
        conf = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"--config {path}: {e}") from None
    if isinstance(conf, dict) and "command" in conf and isinstance(conf.get("config"), dict):
        conf = conf["config"]  # a weights card: the configuration it was trained with
    if not isinstance(conf, dict):
        raise ValueError(f"--config {path} must hold a JSON object of option names and values.")
    try:
        return _split(conf)
    except ValueError as e:
        raise ValueError(f"--config {path}: {e}") from None


def make_config(*sources: Mapping) -> TrainConfig:
    """The :class:`TrainConfig` of ``sources``, mappings of options of which a later one wins (a recipe, then flags).

    The data options are merged one by one and checked here, so a bad value is
    refused before any work.

    Raises
    ------
    ValueError
        For an unknown option, a data option the variant does not read, or a value out of range.
    """
    top, data = {}, {}
    for source in sources:
        options = _split(source)
        data.update(options.pop("data", {}))
        top.update(options)
    top = {k: _typed(_FIELDS[k].default, v) for k, v in top.items()}
    cfg = TrainConfig(**top)
    other = sorted(set(data) - set(data_options(cfg.variant)))
    if other:
        raise ValueError(f"{', '.join(other)}: not a data option of the {cfg.variant} variant "
                         f"(its options: {', '.join(data_options(cfg.variant))}).")
    if cfg.variant == "subfield":
        cfg.data = data
    else:
        defaults = asdict(DataConfig.for_dim(cfg.ndim))
        cfg.data = {k: _typed(defaults[k], v) for k, v in data.items()}
        DataConfig.for_dim(cfg.ndim, **cfg.data)  # its checks, now
    return cfg


def full_config(cfg: TrainConfig) -> dict:
    """Every option of ``cfg`` with its value, the data options of its variant included (JSON types)."""
    out = asdict(cfg)
    if cfg.variant == "subfield":
        from ..networks.subfield import DEFAULT_WIDTH

        given = {k: v for k, v in cfg.data.items() if v is not None}
        out["data"] = {"per_class": PER_CLASS, "width": DEFAULT_WIDTH[cfg.ndim]} | given
    else:
        data = asdict(DataConfig.for_dim(cfg.ndim, **cfg.data))
        out["data"] = {k: v for k, v in data.items() if k != "ndim"}
    return json.loads(json.dumps(out))


def recipe_text(options: Mapping, indent: str = "") -> str:
    """``options`` as JSON for a recipe file: one option a line, ``data``'s nested, lists on one line."""
    lines = [f"{indent}  {json.dumps(k)}: "
             + (recipe_text(v, indent + "  ").lstrip() if isinstance(v, Mapping) else json.dumps(v))
             for k, v in options.items()]
    return f"{indent}{{\n" + ",\n".join(lines) + f"\n{indent}}}"
