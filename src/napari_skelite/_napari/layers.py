"""Turn engine results into napari layer data (no algorithms here)."""
from __future__ import annotations

import numpy as np

from ..record import pruned_record, run_record

KEY = "napari_skelite"


def removed_per_step(steps: np.ndarray) -> np.ndarray:
    """``removed[j]`` marks points present at step ``j-1`` and gone at step ``j`` (uint8 0/1)."""
    removed = np.zeros(steps.shape, np.uint8)
    removed[1:] = (steps[:-1] > 0) & (steps[1:] == 0)
    return removed


def variant_tag(method: str, options: dict | None = None) -> str:
    """The method and the options that change its result, as layer names show them.

    ``"skelite"``, ``"skelite, no guard"``, ``"boolean, > 0.42"`` (an Image
    layer thresholded at 0.42): variants of one input sit side by side.
    """
    options = options or {}
    tag = method
    if options.get("guard") is False:
        tag += ", no guard"
    if options.get("threshold") is not None:
        tag += f", > {options['threshold']:g}"
    return tag


def layer_kwargs(name: str, source, kind: str, method: str, extra_axis: bool = False, options: dict | None = None) -> dict:
    """name/scale/translate/metadata for a result of ``source`` (a napari layer).

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
        "metadata": {KEY: {"source": source.name, "kind": kind, "method": method, "options": dict(options or {}),
                           "tag": variant_tag(method, options)}},
    }
    if kind == "skeleton":
        kw["blending"] = "translucent_no_depth"
        kw["opacity"] = 1.0
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
    meta = (metadata or {}).get(KEY)
    if not meta or meta.get("kind") != "skeleton":
        return None

    opts = meta.get("options", {})
    data = np.asarray(data)
    source = f"napari layer {meta['source']!r}"
    if opts.get("threshold") is not None:  # an Image layer, binarised first
        source += f", points > {opts['threshold']}"
    method_opts = {k: v for k, v in opts.items() if k not in ("iterations", "device", "threshold", "prune")}
    rec = run_record(meta["method"], ndim=data.ndim, iterations=opts.get("iterations"), options=method_opts,
                     device=opts.get("device"), source=source, shape=data.shape,
                     scale=None if scale is None else tuple(scale), skeleton_points=int((data > 0).sum()))
    if opts.get("prune"):
        rec["pruned"] = pruned_record(opts["prune"], scale)
    return rec


def spacing_of(scale=None, units=None) -> dict:
    """``spacing``/``unit`` keywords of :func:`napari_skelite.io.write_labels` for a layer's scale and units."""
    if scale is None:
        return {}
    return {"spacing": tuple(float(v) for v in scale), "unit": str(units[-1]) if units else None}


def find_output(layers, source_name: str, kind: str, tag: str):
    """The layer this plugin made earlier for the same source, kind and variant (:func:`variant_tag`), if any."""
    for layer in layers:
        meta = layer.metadata.get(KEY) if hasattr(layer, "metadata") else None
        if meta and meta.get("source") == source_name and meta.get("kind") == kind \
                and meta.get("tag", meta.get("method")) == tag:
            return layer
    return None


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


def bright_colormap(data, against=None):
    """Label colours that stand out on a dark canvas and against the input (ids kept).

    ``against``: the input Labels layer; each id gets, of the bright colours
    (and white), the one farthest from the input's colour of that id, so a
    skeleton never disappears into its own object.
    """
    from napari.utils.colormaps import DirectLabelColormap

    ids = [v for v in np.unique(np.asarray(data)).tolist() if v != 0]
    palette = np.array(_BRIGHT + [(1.0, 1.0, 1.0)])
    colors = {None: (0.0, 0.0, 0.0, 0.0)}
    for i, v in enumerate(ids):
        choice = _BRIGHT[i % len(_BRIGHT)]
        base = _label_colour(against, v)
        if base is not None:
            far = np.linalg.norm(palette - base[:3], axis=1)
            choice = tuple(palette[int(np.argmax(far))])
        colors[v] = (*choice, 1.0)
    return DirectLabelColormap(color_dict=colors)


def _label_colour(layer, value):
    """The RGB colour a Labels layer shows ``value`` in, or None (not a Labels layer)."""
    get = getattr(layer, "get_color", None)
    if get is None:
        return None
    c = get(value)
    return None if c is None else np.asarray(c, float)[:3]


#: what the graph layer can be coloured by: feature, colormap (continuous) or None (categorical)
GRAPH_COLOURS = {"mean_radius": "viridis", "length": "plasma", "tortuosity": "magma", "branch_type": None, "label": None}

_TYPE_COLOURS = {"end-end": (0.6, 0.6, 1.0), "junction-end": (1.0, 0.85, 0.1), "junction-junction": (0.2, 0.9, 1.0),
                 "cycle": (1.0, 0.35, 0.35)}


def graph_shapes(skeleton, source, *, mask=None, name: str, colour_by: str = "mean_radius") -> tuple[list, dict]:
    """A napari Shapes layer (paths) of a skeleton's branches: ``(data, kwargs)`` for ``add_shapes``.

    One path per branch (a single point: a path of two equal vertices), in
    ``source``'s data coordinates, with the branch table's features per path
    (``label``, ``length`` in the units of ``source.scale``, ``branch_type``,
    ``tortuosity`` and, with ``mask``, ``mean_radius``). Drawn without depth
    test, so it stays visible over the input in the 3D view.
    """
    from ..graph import branches

    b = branches(skeleton, tuple(source.scale), mask=mask)
    t = b.table
    features = {"label": t["label"].to_numpy(), "length": t["branch_distance"].to_numpy(),
                "branch_type": t["branch_type"].to_numpy(), "tortuosity": t["tortuosity"].to_numpy()}
    if mask is not None:
        features["mean_radius"] = t["mean_radius"].to_numpy()
    data = [np.repeat(p, 2, axis=0) if len(p) == 1 else p.astype(float) for p in b.paths]
    kw = {"name": name, "shape_type": "path", "scale": tuple(source.scale), "translate": tuple(source.translate),
          "features": features, "edge_width": 0.8 * float(min(np.abs(source.scale))), "face_color": "transparent",
          "blending": "translucent_no_depth", "metadata": {KEY: {"source": source.name, "kind": "graph"}}}
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
