"""The incremental estimator's network (IQF/ISQF head on an MLP body) and its
weighted CRPS loss."""

import numpy as np
import torch
from scipy.special import ndtri
from torch import nn
from torch.nn import functional as F

from ._layers import make_mlp, member_linear, unpack_target, weighted_member_mean
from ._piecewise_linear import (
    POOLINGS,
    PiecewiseLinearQuantileFunction,
    average_quantile_functions,
    crps_closed_form,
    mix_quantile_functions,
    mixture_bisection_pays,
    mixture_cdf,
    mixture_cdf_pays,
    mixture_quantiles,
    select_members,
)

#: Smallest increment between consecutive knot values (standardised units). It
#: keeps the quantile function strictly increasing, so the CDF is well defined.
MIN_INCREMENT = 1e-4

#: Smallest scale of an exponential tail (standardised units).
MIN_TAIL_SCALE = 1e-3

#: Share of every knot interval spread uniformly over its spline pieces, so
#: that no piece has zero width.
MIN_PIECE_SHARE = 0.01


def _inverse_softplus(value):
    return value + np.log(-np.expm1(-value))


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

    With ``n_members > 1`` the module is an ensemble of that many independent
    networks (own weights, own initialisation) evaluated side by side. In
    training mode it returns every member's quantile functions, with a
    leading members dimension, so that each member is trained on its own
    CRPS. In evaluation mode it returns their mixture
    (:func:`mix_quantile_functions`) or their average quantile function
    (:func:`average_quantile_functions`), as ``pooling`` says; both are again
    increasing, piecewise linear with exponential tails, and score a CRPS
    at most the members' mean.

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
    n_members : int, default=1
        Number of independent networks in the ensemble.
    pooling : {"mixture", "quantiles"}, default="mixture"
        How an ensemble's members are combined in evaluation mode:
        :func:`mix_quantile_functions` or :func:`average_quantile_functions`.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        knot_levels,
        n_pieces,
        hidden_layer_sizes,
        activation,
        n_members=1,
        pooling="mixture",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        knot_levels = np.asarray(knot_levels, dtype=np.float64)
        self.n_outputs = n_outputs
        self.n_knots = len(knot_levels)
        self.n_pieces = n_pieces
        self.n_members = n_members
        self.pooling = pooling
        self.register_buffer("knot_levels", torch.as_tensor(knot_levels))
        self.body, width = make_mlp(
            n_features, hidden_layer_sizes, activation, n_members
        )
        n_split = 2 * (self.n_knots - 1) * n_pieces if n_pieces > 1 else 0
        self.n_parameters = self.n_knots + 2 + n_split
        self.head = member_linear(width, n_outputs * self.n_parameters, n_members)
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
        bias = torch.as_tensor(np.tile(bias, self.n_outputs))
        with torch.no_grad():
            self.head.bias.copy_(bias.expand_as(self.head.bias))
            self.head.weight.mul_(0.1)

    def forward(self, X):
        if self.n_members > 1 and X.ndim != 2:
            raise ValueError("An ensemble module takes features of shape (n, d).")
        quantile_function = self.member_quantile_functions(X)
        if self.n_members > 1 and not self.training:
            return self._pool(quantile_function)
        return quantile_function

    def quantiles(self, X, alpha):
        """The ensemble's quantiles at levels ``alpha``, in evaluation mode:
        ``alpha`` is (m,) for every row or (n, n_outputs, m); returns (n,
        n_outputs, m).

        A mixture of members asked for a few levels per row is evaluated
        there only (:func:`mixture_quantiles`) instead of being built whole,
        which evaluates every member's distribution function at every
        breakpoint of every member.
        """
        members = self.member_quantile_functions(X)
        if self.n_members > 1:
            if self.pooling == "mixture" and mixture_bisection_pays(
                members, alpha.shape[-1]
            ):
                return mixture_quantiles(members, alpha)
            members = self._pool(members)
        if alpha.ndim == 1 and members.levels.ndim == 1:
            return members.quantile_at_shared_levels(alpha)
        return members.quantile(alpha.expand(*members.values.shape[:-1], -1))

    def _pool(self, members):
        if self.pooling == "mixture":
            return mix_quantile_functions(members)
        return average_quantile_functions(members, self.n_pieces)

    def cdf(self, X, z, members=None):
        """The distribution function at values ``z`` (n, n_outputs, m), in
        evaluation mode: of the ensemble, or of the pool of some ``members``
        (a sequence of member indices) pooled as the ensemble pools all of
        them. Returns (n, n_outputs, m).

        A mixture asked for a few values per row is evaluated there only
        (:func:`mixture_cdf`), as :meth:`quantiles` does for levels.
        """
        functions = self.member_quantile_functions(X)
        if self.n_members == 1:
            return functions.cdf(z)
        if members is not None:
            members = [int(member) for member in members]
            if len(members) == 1:
                return select_members(functions, members[0]).cdf(z)
            functions = select_members(functions, members)
        if self.pooling == "mixture" and mixture_cdf_pays(functions, z.shape[-1]):
            return mixture_cdf(functions, z)
        return self._pool(functions).cdf(z)

    def member_outputs(self, X):
        """What the members are scored on: :meth:`member_quantile_functions`."""
        return self.member_quantile_functions(X)

    def member_quantile_functions(self, X):
        """Every member's quantile functions (leading members dimension if
        ``n_members > 1``), in any mode."""
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


def row_scores(quantile_function, target):
    """The CRPS of every row (mean over its outputs), and the target's weights.

    ``target`` is packed by :func:`~skquantile._layers.pack_target`.
    Returns the scores, of shape ``(n_members, n_rows)`` for member
    functions and ``(n_rows,)`` otherwise, the weights and the member
    columns (no columns without them).
    """
    shape = quantile_function.left_scale.shape
    n_outputs = shape[-1]
    observed, weight, members = unpack_target(target, n_outputs)
    scores = crps_closed_form(quantile_function, observed.expand(shape)).mean(-1)
    return scores, weight, members


class WeightedCRPSLoss(nn.Module):
    """Weighted mean closed-form CRPS of a batch.

    The target tensor carries the observations in its first ``n_outputs``
    columns and the sample weight of each row in its last column, so that
    weights travel through skorch's batching with the targets. The score of a
    row is the mean over its outputs.

    The functions of an ensemble in training mode carry a leading members
    dimension: every member is scored on the rows that train it (0/1 columns
    after the weight, one per member, or every row without them), so each
    member follows the gradient of its own CRPS (their weights are
    separate).
    """

    def forward(self, quantile_function, target):
        return weighted_member_mean(*self.row_scores(quantile_function, target))

    def row_scores(self, quantile_function, target):
        """The CRPS of every row (and member), the weights and the member
        columns (:func:`row_scores`)."""
        return row_scores(quantile_function, target)
