"""Piecewise-linear quantile functions with exponential tails, batched in torch."""

from typing import NamedTuple

import torch


class PiecewiseLinearQuantileFunction(NamedTuple):
    """A batch of monotone quantile functions, linear between breakpoints.

    Each function is described by strictly increasing breakpoint levels
    ``levels[..., 0] < ... < levels[..., -1]`` inside (0, 1) and strictly
    increasing values at those levels. Between breakpoints the function is
    linear; below the first and above the last breakpoint it follows an
    exponential tail::

        Q(a) = values[..., 0]  + left_scale  * log(a / levels[..., 0])
        Q(a) = values[..., -1] + right_scale * log((1 - levels[..., -1]) / (1 - a))

    so that ``Q(0) = -inf`` and ``Q(1) = +inf`` and the distribution has
    support on the whole real line. ``left_scale`` and ``right_scale`` are the
    inverses of the tail rates ``b_l`` and ``b_r`` of Park et al. (2022).

    The leading dimensions (written ``...``) index independent distributions,
    for instance ``(n_rows, n_outputs)``; all methods broadcast over them.

    Attributes
    ----------
    levels : torch.Tensor of shape (..., n_breakpoints)
        Increasing levels of the breakpoints.
    values : torch.Tensor of shape (..., n_breakpoints)
        Increasing quantile values at the breakpoints.
    left_scale : torch.Tensor of shape (...)
        Positive scale of the left exponential tail.
    right_scale : torch.Tensor of shape (...)
        Positive scale of the right exponential tail.
    """

    levels: torch.Tensor
    values: torch.Tensor
    left_scale: torch.Tensor
    right_scale: torch.Tensor

    def quantile(self, alpha):
        """Evaluate the quantile function at levels ``alpha`` of shape (..., m)."""
        levels, values = self.levels, self.values
        first_level, last_level = levels[..., :1], levels[..., -1:]
        segment = _segment_index(levels, alpha)
        x0, x1 = _gather(levels, segment), _gather(levels, segment + 1)
        y0, y1 = _gather(values, segment), _gather(values, segment + 1)
        inner = y0 + (y1 - y0) * ((alpha - x0) / (x1 - x0)).clamp(0.0, 1.0)
        left = values[..., :1] + self.left_scale[..., None] * torch.log(
            alpha / first_level
        )
        right = values[..., -1:] + self.right_scale[..., None] * torch.log(
            (1.0 - last_level) / (1.0 - alpha)
        )
        return torch.where(
            alpha < first_level, left, torch.where(alpha > last_level, right, inner)
        )

    def quantile_at_shared_levels(self, alpha):
        """Evaluate every function at the same levels ``alpha`` of shape (m,).

        Gives the same numbers as :meth:`quantile` with ``alpha`` broadcast to
        (..., m), but needs breakpoint levels shared by all functions (shape
        (n_breakpoints,)): the segments and interpolation weights are then
        computed once per level instead of once per function and level, and
        the tails only for the levels that fall in them.
        """
        levels, values = self.levels, self.values
        if levels.ndim != 1 or alpha.ndim != 1:
            raise ValueError("quantile_at_shared_levels needs 1-d levels and alpha.")
        segment = _segment_index(levels, alpha)
        x0, x1 = levels[segment], levels[segment + 1]
        weight = ((alpha - x0) / (x1 - x0)).clamp(0.0, 1.0)
        y0, y1 = values[..., segment], values[..., segment + 1]
        result = y0 + (y1 - y0) * weight
        left = torch.nonzero(alpha < levels[0])[:, 0]
        if len(left):
            result[..., left] = values[..., :1] + self.left_scale[..., None] * (
                torch.log(alpha[left] / levels[:1])
            )
        right = torch.nonzero(alpha > levels[-1])[:, 0]
        if len(right):
            result[..., right] = values[..., -1:] + self.right_scale[..., None] * (
                torch.log((1.0 - levels[-1:]) / (1.0 - alpha[right]))
            )
        return result

    def cdf(self, z):
        """Evaluate the distribution function at values ``z`` of shape (..., m).

        This is the exact inverse of :meth:`quantile`: linear inversion between
        breakpoints and the closed-form exponential tails outside them.
        """
        levels, values = self.levels, self.values
        first_value, last_value = values[..., :1], values[..., -1:]
        segment = _segment_index(values, z)
        x0, x1 = _gather(levels, segment), _gather(levels, segment + 1)
        y0, y1 = _gather(values, segment), _gather(values, segment + 1)
        # A segment of zero height (values equal to float64 resolution, far
        # outside the training data) holds all of its probability at that
        # value: the CDF there is the level at the segment's top, not 0/0.
        rises = y1 > y0
        share = (z - y0) / torch.where(rises, y1 - y0, 1.0)
        inner = x0 + (x1 - x0) * torch.where(rises, share, 1.0).clamp(0.0, 1.0)
        # The clamps keep the branch that torch.where discards finite, so that
        # no inf or nan leaks into gradients.
        left = levels[..., :1] * torch.exp(
            ((z - first_value) / self.left_scale[..., None]).clamp(max=0.0)
        )
        right = 1.0 - (1.0 - levels[..., -1:]) * torch.exp(
            -((z - last_value) / self.right_scale[..., None]).clamp(min=0.0)
        )
        return torch.where(
            z < first_value, left, torch.where(z > last_value, right, inner)
        )


def _segment_index(breakpoints, points):
    """Index of the linear segment of ``breakpoints`` that holds each point."""
    breakpoints = breakpoints.expand(*points.shape[:-1], breakpoints.shape[-1])
    index = torch.searchsorted(breakpoints.contiguous(), points.contiguous()) - 1
    return index.clamp(0, breakpoints.shape[-1] - 2)


def _gather(tensor, index):
    tensor = tensor.expand(*index.shape[:-1], tensor.shape[-1])
    return torch.gather(tensor, -1, index)
