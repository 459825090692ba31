"""Torch modules: the MLP body, the incremental quantile-function head and its loss."""

import numpy as np
import torch
from scipy.special import ndtri
from torch import nn
from torch.nn import functional as F

from ._crps import crps_closed_form
from ._quantile_function import PiecewiseLinearQuantileFunction

#: Smallest increment between consecutive knot values (standardised units). It
#: keeps the quantile function strictly increasing, so the CDF is well defined.
MIN_INCREMENT = 1e-4
#: Smallest scale of an exponential tail (standardised units).
MIN_TAIL_SCALE = 1e-3
#: Share of every knot interval spread uniformly over its spline pieces, so
#: that no piece has zero width.
MIN_PIECE_SHARE = 0.01

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def _inverse_softplus(value):
    return value + np.log(-np.expm1(-value))


def make_mlp(n_inputs, hidden_layer_sizes, activation):
    """Stack of ``Linear`` layers, each followed by ``activation``."""
    layers = []
    for width in hidden_layer_sizes:
        layers += [nn.Linear(n_inputs, width), ACTIVATIONS[activation]()]
        n_inputs = width
    return nn.Sequential(*layers), n_inputs


class IncrementalQuantileNetwork(nn.Module):
    """MLP that maps features to one incremental (spline) quantile function per output.

    For each row and output the head produces a free first knot value, the
    positive increments between consecutive knots, two positive tail scales
    and, with ``n_pieces > 1``, the softmax shares that split every knot
    interval into ``n_pieces`` linear pieces (ISQF). The resulting quantile
    function passes through every knot and is increasing by construction.

    The head is initialised so that, before training, every row predicts the
    standard normal distribution at the knots, with tails matching its slope:
    the natural starting point for a standardised target.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int
        Number of targets, each with its own quantile function.
    knot_levels : array-like of shape (n_knots,)
        Increasing knot levels inside (0, 1).
    n_pieces : int
        Linear pieces per knot interval.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    activation : str
        Name of the hidden activation.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        knot_levels,
        n_pieces,
        hidden_layer_sizes,
        activation,
    ):
        super().__init__()
        knot_levels = np.asarray(knot_levels, dtype=np.float64)
        self.n_outputs = n_outputs
        self.n_knots = len(knot_levels)
        self.n_pieces = n_pieces
        self.register_buffer("knot_levels", torch.as_tensor(knot_levels))
        self.body, width = make_mlp(n_features, hidden_layer_sizes, activation)
        n_split = 2 * (self.n_knots - 1) * n_pieces if n_pieces > 1 else 0
        self.n_parameters = self.n_knots + 2 + n_split
        self.head = nn.Linear(width, n_outputs * self.n_parameters)
        self._initialise_head(knot_levels)

    def _initialise_head(self, knot_levels):
        normal_quantiles = ndtri(knot_levels)
        normal_density = np.exp(-0.5 * normal_quantiles**2) / np.sqrt(2.0 * np.pi)
        increments = np.diff(normal_quantiles) - MIN_INCREMENT
        left = knot_levels[0] / normal_density[0]
        right = (1.0 - knot_levels[-1]) / normal_density[-1]
        bias = np.zeros(self.n_parameters)
        bias[0] = normal_quantiles[0]
        bias[1 : self.n_knots] = _inverse_softplus(increments)
        bias[self.n_knots] = _inverse_softplus(left - MIN_TAIL_SCALE)
        bias[self.n_knots + 1] = _inverse_softplus(right - MIN_TAIL_SCALE)
        with torch.no_grad():
            self.head.bias.copy_(torch.as_tensor(np.tile(bias, self.n_outputs)))
            self.head.weight.mul_(0.1)

    def forward(self, X):
        raw = self.head(self.body(X)).unflatten(-1, (self.n_outputs, -1))
        knots = self.n_knots
        increments = F.softplus(raw[..., 1:knots]) + MIN_INCREMENT
        values = torch.cumsum(torch.cat([raw[..., :1], increments], -1), -1)
        left_scale = F.softplus(raw[..., knots]) + MIN_TAIL_SCALE
        right_scale = F.softplus(raw[..., knots + 1]) + MIN_TAIL_SCALE
        levels = self.knot_levels.to(raw.dtype)
        if self.n_pieces > 1:
            shares = raw[..., knots + 2 :].unflatten(-1, (2, knots - 1, self.n_pieces))
            levels, values = _split_intervals(levels.expand_as(values), values, shares)
        return PiecewiseLinearQuantileFunction(levels, values, left_scale, right_scale)


def _split_intervals(levels, values, shares):
    """Insert ``n_pieces - 1`` breakpoints in every knot interval (ISQF).

    ``shares[..., 0, k, :]`` and ``shares[..., 1, k, :]`` are logits of the
    widths and heights of the pieces of interval ``k``; the softmax makes them
    positive shares that add up to the interval, so every knot is kept and the
    spline stays increasing.
    """
    n_pieces = shares.shape[-1]
    shares = (1.0 - MIN_PIECE_SHARE) * torch.softmax(shares, -1) + (
        MIN_PIECE_SHARE / n_pieces
    )
    inner = torch.cumsum(shares[..., :-1], -1)

    def split(points, inner_shares):
        start, stop = points[..., :-1, None], points[..., 1:, None]
        interior = start + inner_shares * (stop - start)
        pieces = torch.cat([interior, stop], -1).flatten(-2)
        return torch.cat([points[..., :1], pieces], -1)

    return split(levels, inner[..., 0, :, :]), split(values, inner[..., 1, :, :])


class WeightedCRPSLoss(nn.Module):
    """Weighted mean closed-form CRPS of a batch.

    The target tensor carries the observations in its first ``n_outputs``
    columns and the sample weight of each row in its last column, so that
    weights travel through skorch's batching with the targets. The score of a
    row is the mean over its outputs.
    """

    def forward(self, quantile_function, target):
        observed, weight = target[:, :-1], target[:, -1]
        scores = crps_closed_form(quantile_function, observed).mean(-1)
        return (weight * scores).sum() / weight.sum()
