"""The method registry: one :class:`Method` record per skeletonizer, declared beside its ``run``.

Everything else (the engine, chunked processing, memory checks, the CLI, the
widget, run records, the comparison table, the clDice loss) reads these
records; adding a method is one module that calls :func:`register`.

The ``run`` contract
--------------------
``run(mask, *, iterations, device, return_steps, tick, **options)`` thins one
binary object:

- ``mask``: ``(H, W)`` or ``(D, H, W)`` numpy bool array; its border counts as background;
- ``iterations``: ``None`` (until done) or a positive int;
- ``device``: a resolved ``torch.device`` (``"cpu"`` for methods that do not use torch);
- ``return_steps``: also return every iteration's state;
- ``tick``: ``None`` or a callable the method calls once per iteration (it raises to cancel);
- ``options``: only the options the record declares, each with its value.

It returns ``(skeleton, steps)``: a bool array of ``mask``'s shape and, with
``return_steps``, a list of bool arrays whose first item is the input.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "Method", "Option", "count_iterations", "get", "methods", "names", "options_by_name", "register", "thinning_halo",
    "unregister",
]


def count_iterations(iterations: int | None, needed: int | None) -> int | None:
    """Iterations that can change anything: the requested count, capped by what the depth needs."""
    if needed is None:
        return iterations
    return needed if iterations is None else min(iterations, needed)


def thinning_halo(ndim: int, depth: int | None, iterations: int | None, options: Mapping) -> int:
    """Halo of subfield thinning: ``2**ndim + 1`` points per iteration for ``depth + 2`` iterations.

    Subfield thinning passes information one point per subfield pass. This is
    a bound that holds in the tests (chunked equals whole), not a proof.
    """
    return (2**ndim + 1) * (count_iterations(iterations, depth) + 2)


def _always(ndim, iterations, options) -> bool:
    return True


def _never(options, ndim: int) -> bool:
    return False


def _two_layers_per_iteration(ndim: int, depth: int, options) -> int:
    # subfield thinning peels about two layers per iteration (4 or 8 passes), as local thinning's bands do
    return -(-depth // 2)


@dataclass(frozen=True)
class Option:
    """One keyword option of a method, declared once: the CLI flag and the widget control are made from it.

    Attributes
    ----------
    name : str
        The keyword ``skeletonize`` takes (``--name`` on the command line, ``-`` for ``_``).
    default : object
        Its value when not given.
    type : type
        ``bool``, ``int``, ``float``, ``str`` or ``pathlib.Path`` (a file; ``None`` allowed).
    help : str
        One line for ``--help`` and the widget's tooltip.
    choices : tuple, optional
        The values it accepts (a combo box in the widget).
    """

    name: str
    default: Any
    type: type = str
    help: str = ""
    choices: tuple | None = None

    def check(self, value, method: str):
        """``value`` if it is valid for this option, else a :class:`TypeError`/:class:`ValueError` saying why."""
        if self.type is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"option {self.name!r} of method {method!r} must be True or False; got {value!r}.")
            return bool(value)
        if value is None:
            if self.default is None:
                return None
            raise ValueError(f"option {self.name!r} of method {method!r} needs a value (default {self.default!r}).")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"option {self.name!r} of method {method!r} must be one of "
                             f"{', '.join(map(repr, self.choices))}; got {value!r}.")
        if self.type is int and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise TypeError(f"option {self.name!r} of method {method!r} must be an integer; got {value!r}.")
        return value


def _as_options(options) -> tuple[Option, ...]:
    """Options given as :class:`Option` records, or as ``{name: default}`` (the type read off the default)."""
    if isinstance(options, Mapping):
        return tuple(Option(k, v, type(v) if v is not None else str) for k, v in options.items())
    return tuple(options)


@dataclass(frozen=True)
class Method:
    """Everything the rest of the package needs to know about one skeletonization method.

    Attributes
    ----------
    name : str
        What ``skeletonize(method=...)`` and ``--method`` accept.
    label : str
        The widget's combo text.
    description : str
        One line: what it is and when to use it.
    run : callable
        See the module docstring for the contract.
    options : sequence of Option (or a mapping ``{name: default}``)
        Keyword options ``run`` accepts beyond the common ones. After construction
        ``options`` is the mapping of defaults and :attr:`params` the records.
    halo : callable
        ``halo(ndim, depth, iterations, options) -> int``: points per side a chunk
        must see so that chunked results equal whole-image ones (``depth``: the
        largest city-block depth, ``None`` when ``needs_depth`` says it is not needed).
    needs_depth : callable
        ``needs_depth(ndim, iterations, options) -> bool``.
    bytes_per_voxel : int
        Rough peak memory per voxel of an object's crop (measured with the benchmark).
    keeps_topology : callable
        ``keeps_topology(options, ndim) -> bool``: whether the method guarantees every
        Betti number of an ``ndim``-D input; when not, the product measures and reports a change.
    soft_skeleton : callable or None
        ``soft_skeleton(x, iterations, options) -> tensor`` on ``(B, 1, *spatial)``
        float tensors, differentiable; ``None``: not differentiable.
    uses_torch : bool
        Runs on a torch device; ``False``: always on the CPU.
    iterations_for : callable
        ``iterations_for(ndim, depth, options) -> int``: about how many iterations
        an object of this city-block depth takes (progress is reported against it).
    topology_switch : str, optional
        The name of a bool option that, set, makes the method keep the topology
        exactly (what a warning tells a user to turn on).
    provenance : callable, optional
        ``provenance(options, ndim) -> dict``: what else a result depends on
        (files and their checksums), added to its run record.
    """

    name: str
    label: str
    description: str
    run: Callable[..., tuple]
    options: Mapping[str, Any] = field(default_factory=dict)
    halo: Callable[[int, int | None, int | None, Mapping], int] = thinning_halo
    needs_depth: Callable[[int, int | None, Mapping], bool] = _always
    bytes_per_voxel: int = 100
    keeps_topology: Callable[[Mapping, int], bool] = _never
    soft_skeleton: Callable | None = None
    uses_torch: bool = True
    iterations_for: Callable[[int, int, Mapping], int] = _two_layers_per_iteration
    topology_switch: str | None = None
    provenance: Callable[[Mapping, int], dict] | None = None
    params: tuple = field(default=(), init=False, repr=False)

    def __post_init__(self):
        params = _as_options(self.options)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "options", MappingProxyType({p.name: p.default for p in params}))

    def param(self, name: str) -> Option:
        """The :class:`Option` record of ``name``."""
        return next(p for p in self.params if p.name == name)

    @property
    def differentiable(self) -> bool:
        return self.soft_skeleton is not None

    def resolve(self, options: Mapping) -> dict:
        """The method's options: its defaults updated with ``options``.

        Raises
        ------
        TypeError, ValueError
            For an option the method does not take (the message lists those it
            takes), and a value its :class:`Option` refuses (a non-bool for a
            switch: ``guard="no"`` would otherwise count as True; a value outside
            its choices).
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            takes = ", ".join(self.options) or "no options"
            raise TypeError(f"method {self.name!r} takes no option {', '.join(map(repr, unknown))} "
                            f"(it takes: {takes}).")
        checked = {key: self.param(key).check(value, self.name) for key, value in options.items()}
        return {**self.options, **checked}

    def select(self, options: Mapping) -> dict:
        """The items of ``options`` this method takes (for running several methods with shared options)."""
        return {k: v for k, v in options.items() if k in self.options}

    def chunk_halo(self, ndim: int, depth: int | None, iterations: int | None, options: Mapping) -> int:
        """:attr:`halo`, rounded up to an even number (so subfield parities stay aligned)."""
        h = int(self.halo(ndim, depth, iterations, options))
        return h + h % 2


_REGISTRY: dict[str, Method] = {}

#: the method ``skeletonize`` and every front end use when none is named
DEFAULT = "skelite"
#: the topology-keeping method other skeletons are compared with (clDice, differences)
REFERENCE = "boolean"
#: the size and coverage baseline of the comparison table (scikit-image)
BASELINE = "classic"
#: the differentiable method :class:`~napari_skelite.losses.ClDiceLoss` uses when none is named (clDice's own)
SOFT = "morphological"


def register(method: Method) -> Method:
    """Add ``method`` to the registry (a method of the same name is replaced); returns it."""
    if not method.name.isidentifier() or method.name.lower() != method.name:
        raise ValueError(f"a method name must be a lower-case identifier; got {method.name!r}.")
    _REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a registered method (tests use it to clean up a toy method)."""
    _REGISTRY.pop(name, None)


def names() -> list[str]:
    """Registered method names, in registration order."""
    return list(_REGISTRY)


def methods() -> list[Method]:
    """Registered method records, in registration order."""
    return list(_REGISTRY.values())


def options_by_name() -> dict[str, tuple[Option, list[str]]]:
    """``{option name: (its Option, [names of the methods that take it])}``, in registration order.

    An option several methods take appears once (the first record's); the
    command line's flags and the widget's controls are made from this.
    """
    out: dict = {}
    for record in _REGISTRY.values():
        for p in record.params:
            out.setdefault(p.name, (p, []))[1].append(record.name)
    return out


def get(name: str) -> Method:
    """The record of ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(_REGISTRY)}.")
    return _REGISTRY[key]
