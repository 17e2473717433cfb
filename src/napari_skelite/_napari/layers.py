"""Turn engine results into napari layer data (no algorithms here), and find layers by their stable id.

Every layer the plugin knows carries ``layer.metadata["napari_skelite"]``: an
input gets ``{"id": ...}`` when it is first listed; an output gets its own
``id``, the ``source`` (the input's id), ``source_name``, ``kind``,
``method``, ``options`` and ``tag``. Layers are matched by these ids, never by
name (a user may rename a layer) nor by identity (a plugin sees napari's
proxies of the layers).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from .. import methods

KEY = "napari_skelite"


def new_id() -> str:
    return uuid.uuid4().hex


def meta_of(layer) -> dict:
    """The plugin's metadata of ``layer`` (empty when it has none)."""
    md = getattr(layer, "metadata", None)
    return (md or {}).get(KEY) or {}


def id_of(layer) -> str | None:
    return meta_of(layer).get("id")


def ensure_id(layer) -> str:
    """``layer``'s stable id, given to it (in its metadata) the first time."""
    meta = meta_of(layer)
    if not meta.get("id"):
        layer.metadata[KEY] = {**meta, "id": new_id()}
    return layer.metadata[KEY]["id"]


def by_id(layers, layer_id):
    """The layer of ``layers`` whose stable id is ``layer_id``, or None."""
    if layer_id is None:
        return None
    for layer in layers:
        if id_of(layer) == layer_id:
            return layer
    return None


def is_output(layer) -> bool:
    """Made by this plugin (skeleton, iterations, graph...): not offered as an input."""
    return "source" in meta_of(layer)


def removed_per_step(steps: np.ndarray) -> np.ndarray:
    """``removed[j]`` marks points present at step ``j-1`` and gone at step ``j`` (uint8 0/1)."""
    removed = np.zeros(steps.shape, np.uint8)
    removed[1:] = (steps[:-1] > 0) & (steps[1:] == 0)
    return removed


def variant_tag(method: str, options: dict | None = None) -> str:
    """The method and the options that change its result, as layer names show them.

    ``"skelite"``, ``"skelite, no guard"``, ``"skelite, variant paper"``,
    ``"boolean, > 0.42"`` (an Image layer thresholded at 0.42): every option of
    the method's record that differs from its default is named, so variants of
    one input sit side by side.
    """
    options = options or {}
    tag = method
    params = methods.get(method).params if method in methods.names() else ()  # "a vs b": a differences layer
    for p in params:
        value = options.get(p.name, p.default)
        if value is None or value == p.default:
            continue
        if p.type is bool:
            tag += f", {'' if value else 'no '}{p.name.replace('_', ' ')}"
        else:
            tag += f", {p.name} {Path(value).name if p.type is Path else value}"
    if options.get("threshold") is not None:
        tag += f", > {options['threshold']:g}"
    return tag


def layer_kwargs(name: str, source, kind: str, method: str, extra_axis: bool = False, options: dict | None = None,
                 source_id: str | None = None) -> dict:
    """name/scale/translate/metadata for a result of ``source`` (a napari layer whose stable id is ``source_id``).

    ``options`` (iterations, guard, device, threshold) are kept in the
    metadata, so an export can say how the skeleton was made
    (:func:`record_for_layer`); those that change the result are in its
    ``tag`` (:func:`variant_tag`). Skeletons are drawn without depth test, so
    in the 3D view they show through the input volume.
    """
    scale = tuple(source.scale)
    translate = tuple(source.translate)
    if extra_axis:
        scale, translate = (1.0, *scale), (0.0, *translate)
    kw = {
        "name": name,
        "scale": scale,
        "translate": translate,
        "metadata": {KEY: {"id": new_id(), "source": source_id if source_id is not None else source.name,
                           "source_name": source.name, "kind": kind, "method": method,
                           "options": dict(options or {}), "tag": variant_tag(method, options)}},
        # drawn without depth test: in 3D the result shows through (on top of) the input volume
        "blending": "translucent_no_depth",
        "opacity": 1.0,
    }
    # napari >= 0.6: axis names (shown on the sliders) and units; the extra axis is the iteration
    labels = getattr(source, "axis_labels", None)
    if labels is not None:
        kw["axis_labels"] = ("iteration", *labels) if extra_axis else tuple(labels)
    units = getattr(source, "units", None)
    if units is not None:
        kw["units"] = ("pixel", *units) if extra_axis else tuple(units)
    return kw


def record_for_layer(data, metadata: dict, scale=None) -> dict | None:
    """The run record (:func:`napari_skelite.record.run_record`) of a skeleton layer this plugin made, else None."""
    from ..record import pruned_record, run_record  # it reads the weights' card: torch, on first use

    meta = (metadata or {}).get(KEY)
    if not meta or meta.get("kind") != "skeleton":
        return None

    opts = meta.get("options", {})
    source = f"napari layer {meta.get('source_name', meta['source'])!r}"
    if opts.get("threshold") is not None:  # an Image layer, binarised first
        source += f", points > {opts['threshold']}"
    method_opts = {k: v for k, v in opts.items() if k not in ("iterations", "device", "threshold", "prune")}
    rec = run_record(meta["method"], ndim=data.ndim, iterations=opts.get("iterations"), options=method_opts,
                     device=opts.get("device"), source=source, shape=data.shape,
                     scale=None if scale is None else tuple(scale), skeleton_points=int((data > 0).sum()))  # dask: by blocks
    if opts.get("prune"):
        rec["pruned"] = pruned_record(opts["prune"], scale)
    return rec


def spacing_of(scale=None, units=None) -> dict:
    """``spacing``/``unit`` keywords of :func:`napari_skelite.io.write_labels` for a layer's scale and units."""
    if scale is None:
        return {}
    return {"spacing": tuple(float(v) for v in scale), "unit": str(units[-1]) if units else None}


def find_output(layers, source_id: str, kind: str, tag: str):
    """The layer this plugin made earlier for the same source (stable id), kind and variant (:func:`variant_tag`).

    A user's duplicate of an output (``"copy"`` in its metadata) is never replaced.
    """
    for layer in layers:
        meta = meta_of(layer)
        if meta.get("source") == source_id and meta.get("kind") == kind and not meta.get("copy") \
                and meta.get("tag", meta.get("method")) == tag:
            return layer
    return None


def outputs_of(layers, source_id: str) -> list:
    """The layers this plugin made from the input whose stable id is ``source_id``."""
    return [ly for ly in layers if meta_of(ly).get("source") == source_id]


def table_to_csv(rows: list[dict], columns: list[str]) -> str:
    lines = [",".join(columns)]
    for r in rows:
        lines.append(",".join(_fmt(r.get(c, "")) for c in columns))
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    s = str(v)
    return f'"{s}"' if "," in s else s


_BRIGHT = [(1.0, 0.85, 0.1), (0.2, 0.9, 1.0), (1.0, 0.35, 0.35), (0.5, 1.0, 0.4), (1.0, 0.5, 1.0), (1.0, 0.6, 0.2),
           (0.6, 0.6, 1.0), (0.9, 1.0, 0.6)]


def bright_colormap(data, against=None, ids=None):
    """Label colours that stand out on a dark canvas and against the input (ids kept).

    ``against``: the input Labels layer, or a copy of its colormap
    (:func:`colormap_copy`, to be read off the GUI thread); each id gets, of
    the bright colours (and white), the one farthest from the input's colour
    of that id, so a skeleton never disappears into its own object. ``ids``:
    the label ids of ``data`` when already known (found off the GUI thread).
    """
    from napari.utils.colormaps import DirectLabelColormap

    if ids is None:
        ids = [v for v in np.unique(np.asarray(data)).tolist() if v != 0]
    palette = np.array(_BRIGHT + [(1.0, 1.0, 1.0)])
    choice = np.array([_BRIGHT[i % len(_BRIGHT)] for i in range(len(ids))]).reshape(-1, 3)
    base = _label_colours(against, ids)
    if base is not None:  # the farthest of the palette from each id's own colour
        far = np.linalg.norm(palette[None, :, :] - base[:, None, :], axis=2)
        choice = palette[np.argmax(far, axis=1)]
    colors = {None: (0.0, 0.0, 0.0, 0.0)}
    colors.update({v: (*map(float, c), 1.0) for v, c in zip(ids, choice)})
    return DirectLabelColormap(color_dict=colors)


def colormap_copy(layer):
    """A copy of a Labels layer's colormap that a job may read while the user edits the layer (None otherwise)."""
    cmap = getattr(layer, "colormap", None)
    if not hasattr(layer, "get_color") or not hasattr(cmap, "model_dump"):
        return None
    return type(cmap)(**cmap.model_dump())


def _label_colours(against, ids):
    """The RGB colours (N, 3) the input shows ``ids`` in, or None (no Labels input)."""
    if against is None or not len(ids):
        return None
    if hasattr(against, "get_color"):  # a Labels layer
        return np.array([np.asarray(against.get_color(v), float)[:3] for v in ids]).reshape(-1, 3)
    if hasattr(against, "map"):  # a label colormap
        return np.asarray(against.map(np.asarray(ids)), float).reshape(-1, 4)[:, :3]
    return None


#: what the graph layer can be coloured by: feature, colormap (continuous) or None (categorical)
GRAPH_COLOURS = {"mean_radius": "viridis", "length": "plasma", "tortuosity": "magma", "branch_type": None, "label": None}

_TYPE_COLOURS = {"end-end": (0.6, 0.6, 1.0), "junction-end": (1.0, 0.85, 0.1), "junction-junction": (0.2, 0.9, 1.0),
                 "cycle": (1.0, 0.35, 0.35)}


def path_width(shape) -> float:
    """Width of the graph's paths in data units: readable at the zoom that shows the whole image.

    About 1/250 of the image's larger side in the displayed plane (at least
    1.5 points): 2 points on a 512 image, 8 on a 2000 image.
    """
    return max(1.5, max(shape[-2:]) / 250)


def graph_shapes(skeleton, source, *, mask=None, name: str, colour_by: str = "mean_radius",
                 metadata: dict | None = None, callback=None) -> tuple[list, dict]:
    """A napari Shapes layer (paths) of a skeleton's branches: ``(data, kwargs)`` for ``add_shapes``.

    One path per branch (a single point: a path of two equal vertices), in
    ``source``'s data coordinates, with the branch table's features per path
    (``label``, ``length`` in the units of ``source.scale``, ``branch_type``,
    ``tortuosity`` and, with ``mask``, ``mean_radius``). Drawn without depth
    test, so it stays visible over the input in the 3D view; ``metadata`` is
    the plugin's metadata of the layer (its ids). ``callback``: as for
    :func:`napari_skelite.graph.branches` (raise in it to stop).
    """
    from ..graph import branches

    b = branches(skeleton, tuple(source.scale), mask=mask, callback=callback)
    t = b.table
    features = {"label": t["label"].to_numpy(), "length": t["branch_distance"].to_numpy(),
                "branch_type": t["branch_type"].to_numpy(), "tortuosity": t["tortuosity"].to_numpy()}
    if mask is not None:
        features["mean_radius"] = t["mean_radius"].to_numpy()
    data = [np.repeat(p, 2, axis=0) if len(p) == 1 else p.astype(float) for p in b.paths]
    kw = {"name": name, "shape_type": "path", "scale": tuple(source.scale), "translate": tuple(source.translate),
          "features": features, "edge_width": path_width(np.shape(skeleton)), "face_color": "transparent",
          "blending": "translucent_no_depth",
          "metadata": {KEY: metadata if metadata is not None else {"source": source.name, "kind": "graph"}}}
    kw.update(graph_colour(colour_by if colour_by in features else "label", features))
    return data, kw


def graph_colour(by: str, features) -> dict:
    """``edge_color`` keywords of a graph layer coloured by the feature ``by`` (see :data:`GRAPH_COLOURS`).

    Continuous features use a colormap; branch types and labels get fixed
    colours (the same type or id has the same colour in every graph layer).
    """
    cmap = GRAPH_COLOURS[by]
    if cmap is not None:
        return {"edge_color": by, "edge_colormap": cmap}
    values = np.asarray(features[by])
    if by == "branch_type":
        colours = [(*_TYPE_COLOURS.get(v, (1.0, 1.0, 1.0)), 1.0) for v in values]
    else:
        ids = sorted(set(values.tolist()))
        colours = [(*_BRIGHT[ids.index(v) % len(_BRIGHT)], 1.0) for v in values.tolist()]
    return {"edge_color": np.array(colours, float).reshape(-1, 4)}


def apply_graph_colour(layer, by: str) -> None:
    """Colour a graph Shapes layer's paths by the feature ``by``."""
    kw = graph_colour(by, layer.features)
    if "edge_colormap" in kw:
        layer.edge_colormap = kw["edge_colormap"]
        layer.edge_color = by
        layer.edge_color_mode = "colormap"
    else:
        layer.edge_color = kw["edge_color"]


_FEATURE_NAMES = {"mean_radius": "mean radius", "length": "length", "tortuosity": "tortuosity",
                  "branch_type": "branch type", "label": "label"}


def graph_legend(by: str, features, max_items: int = 8) -> dict:
    """What the graph's colours mean: ``{"title", "text", "colormap", "low", "high", "items"}``.

    Continuous features (:data:`GRAPH_COLOURS`) give their colormap and value
    range; categories give ``items``, ``(name, (r, g, b))`` pairs (at most
    ``max_items`` labels). ``text`` says it in one line, for a status bar.
    """
    title = _FEATURE_NAMES.get(by, by)
    values = np.asarray(features[by]) if by in features else np.zeros(0)
    cmap = GRAPH_COLOURS.get(by)
    if cmap is not None:
        finite = values[np.isfinite(values.astype(float))] if values.size else values
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        return {"title": title, "colormap": cmap, "low": low, "high": high, "items": [],
                "text": f"graph coloured by {title}: {low:.3g} (dark) to {high:.3g} (bright), {cmap}"}
    colours = graph_colour(by, {by: values})["edge_color"][:, :3] if values.size else np.zeros((0, 3))
    items, seen = [], set()
    for v, c in zip(values.tolist(), colours.tolist()):
        if v not in seen:
            seen.add(v)
            items.append((str(v), tuple(c)))
    items.sort(key=lambda it: it[0])
    more = len(items) - max_items
    shown = items[:max_items]
    text = f"graph coloured by {title}: " + ", ".join(n for n, _ in shown) + (f" and {more} more" if more > 0 else "")
    return {"title": title, "colormap": None, "low": None, "high": None, "items": shown, "text": text}
