"""A toy method registered by tests: cross erosions (not a skeleton, but a method in every other way)."""
from scipy import ndimage

from napari_skelite import methods


def _run(mask, *, iterations=None, device="cpu", return_steps=False, tick=None, times=1):
    if tick is not None:
        tick()
    out = ndimage.binary_erosion(mask, iterations=times, border_value=0)
    return out, ([mask.astype(bool), out] if return_steps else None)


def _soft(x, iterations, options):
    """Grey-value erosions (3x3(x3) minima), ``times`` of them: differentiable."""
    from torch.nn import functional

    pool = functional.max_pool2d if x.ndim == 4 else functional.max_pool3d
    for _ in range(options["times"]):
        x = -pool(-x, 3, 1, 1)
    return x


TOY = methods.Method(
    name="toyerode", label="Toy erosion", description="erodes once (a test method)", run=_run,
    options=(methods.Option("times", 1, int, "toy: how many cross erosions"),),
    halo=lambda ndim, depth, iterations, options: options["times"] + 1,
    needs_depth=lambda ndim, iterations, options: False, uses_torch=False, soft_skeleton=_soft,
)
