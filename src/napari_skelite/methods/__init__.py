"""Skeletonization methods. Each module exposes ``run(mask, iterations, device, return_steps)``
on one binary object, returning ``(skeleton, steps)`` as numpy bool arrays."""
