"""Torch modules: the MLP body, the incremental quantile-function head and its loss."""

import math

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

#: Shares of a member's tail probability at which :func:`mix_quantile_functions`
#: adds breakpoints in that tail: from 1/32 up, each sqrt(2) times the one
#: before, so that the chord of an exponential tail between two of them is
#: within 2% of the tail's probability there.
MIXTURE_TAIL_SHARES = tuple(2.0 ** (-k / 2) for k in range(10, 0, -1))

#: Member distribution-function evaluations per block of rows in
#: :func:`mix_quantile_functions` on the CPU (2 MB per float64 temporary).
MIXTURE_BLOCK_ELEMENTS = 2**18

#: Ways of combining the members of an ensemble (``pooling``).
POOLINGS = ("quantiles", "mixture")

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def _inverse_softplus(value):
    return value + np.log(-np.expm1(-value))


class MemberLinear(nn.Module):
    """``n_members`` independent linear layers, evaluated side by side.

    The weights of all members are stacked, so one batched matrix product
    evaluates every member: on the small networks used here a training step
    of five members costs about 1.5 times one member's (the step time is
    mostly fixed overhead per operation, not arithmetic).

    The input is either ``(n_rows, in_features)``, shared by all members, or
    ``(n_members, n_rows, in_features)``; the output is ``(n_members,
    n_rows, out_features)``. Every member is initialised like a
    :class:`torch.nn.Linear` (uniform weights and biases within
    ``1 / sqrt(in_features)``), independently.
    """

    def __init__(self, n_members, in_features, out_features):
        super().__init__()
        bound = 1.0 / np.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(n_members, in_features, out_features).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(
            torch.empty(n_members, 1, out_features).uniform_(-bound, bound)
        )

    def forward(self, X):
        if X.ndim == 2:
            # One matrix product for all members: (n, in) @ (in, members * out).
            n_members, n_in, n_out = self.weight.shape
            stacked = self.weight.permute(1, 0, 2).reshape(n_in, n_members * n_out)
            out = (X @ stacked).unflatten(-1, (n_members, n_out)).transpose(0, 1)
            return out + self.bias
        return torch.baddbmm(self.bias, X, self.weight)


def _linear(n_inputs, n_outputs, n_members):
    if n_members == 1:
        return nn.Linear(n_inputs, n_outputs)
    return MemberLinear(n_members, n_inputs, n_outputs)


class ExpandMembers(nn.Module):
    """Give rows of shape (n, k) a leading members dimension, as a view:
    (n_members, n, k). The stack of an ensemble without hidden layers."""

    def __init__(self, n_members):
        super().__init__()
        self.n_members = n_members

    def forward(self, X):
        return X.expand(self.n_members, *X.shape)


def make_mlp(n_inputs, hidden_layer_sizes, activation, n_members=1):
    """Stack of linear layers, each followed by ``activation``.

    With ``n_members > 1`` the layers are :class:`MemberLinear`: the stack is
    ``n_members`` independent networks whose outputs carry a leading members
    dimension (without hidden layers too: the inputs, repeated per member).
    """
    layers = []
    for width in hidden_layer_sizes:
        layers += [_linear(n_inputs, width, n_members), ACTIVATIONS[activation]()]
        n_inputs = width
    if not layers and n_members > 1:
        layers = [ExpandMembers(n_members)]
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
        self.head = _linear(width, n_outputs * self.n_parameters, n_members)
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
            if self.pooling == "mixture":
                return mix_quantile_functions(quantile_function)
            return average_quantile_functions(quantile_function, self.n_pieces)
        return quantile_function

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


def average_quantile_functions(members, n_pieces):
    """The average of quantile functions along their leading (members) axis.

    ``members`` holds functions of shape ``(n_members, ...)`` that share
    their knot levels (the knots of an ensemble of incremental networks).
    Averaging quantile functions (not distribution functions) keeps the
    family: below the first and above the last knot every member's tail is
    ``value + scale * log(...)`` of the same level, so the average tail has
    the averaged value and scale; between knots the average of linear pieces
    is linear between the union of all members' breakpoints. With one piece
    per knot interval (IQF) the breakpoints are the knots themselves and the
    average is exact at the knots' values; with spline pieces (ISQF) each
    member has its own inner breakpoints, and the average has all of them.

    Returns
    -------
    PiecewiseLinearQuantileFunction
        Of shape ``...``: the mean quantile function of the members.
    """
    left_scale = members.left_scale.mean(0)
    right_scale = members.right_scale.mean(0)
    if n_pieces == 1:
        return PiecewiseLinearQuantileFunction(
            members.levels, members.values.mean(0), left_scale, right_scale
        )
    levels = members.levels
    n_breakpoints = levels.shape[-1]
    is_knot = torch.arange(n_breakpoints, device=levels.device) % n_pieces == 0
    knots = levels[0][..., is_knot]
    inner = levels[..., ~is_knot].movedim(0, -2).flatten(-2)
    union = torch.sort(torch.cat([knots, inner], -1), -1).values
    n_members = levels.shape[0]
    values = members.quantile(union.expand(n_members, *union.shape)).mean(0)
    return PiecewiseLinearQuantileFunction(union, values, left_scale, right_scale)


def mix_quantile_functions(members):
    """The mixture (linear pool) of quantile functions along the leading axis.

    The mixture of ``M`` members has the distribution function
    ``G(z) = mean_m F_m(z)``. Between two consecutive values of the union of
    all members' breakpoints every member's distribution function is linear
    in ``z`` unless that member is in one of its exponential tails, so the
    piecewise-linear quantile function through ``(G(z_j), z_j)`` at the
    union's values ``z_j`` is exact there, and exact at every ``z_j``. Where
    a member is in its tail (below the largest first or above the smallest
    last breakpoint of the members) the straight piece stands in for a sum
    of exponentials; to keep that chord close, the union also holds every
    member's quantiles at ``MIXTURE_TAIL_SHARES`` of its tail probabilities
    (in each tail, values at which that probability shrinks by sqrt(2), down
    to 1/32 of it); with 40 knots the CDF is then within 2e-4 of ``G``
    everywhere. Beyond the union the mixture is a sum of exponential tails;
    the returned tails keep its probability and its mean there: the tail
    scale is the members' scales averaged with weights ``F_m(z_0)`` on the
    left (``1 - F_m`` at the last value on the right).

    The result is again increasing, piecewise linear with exponential tails,
    with every member's breakpoints and tail points: per row, ``M * (B + 2
    * len(MIXTURE_TAIL_SHARES))`` breakpoints for members of ``B``. Its CRPS is
    at most the members' mean CRPS up to the approximation in the tails,
    since the CRPS is convex in the distribution function.

    Returns
    -------
    PiecewiseLinearQuantileFunction
        Of shape ``...``: the mixture of the members.
    """
    values = members.values
    if values.device.type == "cpu" and values.ndim > 2:
        # The work is elementwise on (members, rows, ..., union) tensors; in
        # blocks of rows whose tensors stay in the CPU's caches it runs
        # several times faster than on a whole chunk of rows (five members,
        # 99 levels for 1e5 rows: 36 s in chunks of 4096 rows, 9 s in blocks
        # of 174), with the same results up to float64 rounding.
        n_members, n_rows = values.shape[:2]
        union = n_members * (values.shape[-1] + 2 * len(MIXTURE_TAIL_SHARES))
        per_row = n_members * union * math.prod(values.shape[2:-1])
        block = max(1, MIXTURE_BLOCK_ELEMENTS // per_row)
        if block < n_rows:
            parts = [
                _mix(_member_rows(members, slice(start, start + block)))
                for start in range(0, n_rows, block)
            ]
            return PiecewiseLinearQuantileFunction(
                *(torch.cat(field, 0) for field in zip(*parts, strict=True))
            )
    return _mix(members)


def _member_rows(members, rows):
    """The members' functions of some rows (the axis after the members)."""
    levels = members.levels
    if levels.ndim == members.values.ndim:
        levels = levels[:, rows]
    return PiecewiseLinearQuantileFunction(
        levels,
        members.values[:, rows],
        members.left_scale[:, rows],
        members.right_scale[:, rows],
    )


def _mix(members):
    """:func:`mix_quantile_functions` on one block."""
    n_members = members.values.shape[0]
    levels = members.levels.expand_as(members.values)
    shares = levels.new_tensor(MIXTURE_TAIL_SHARES)
    tail_levels = torch.cat(
        [levels[..., :1] * shares, 1.0 - (1.0 - levels[..., -1:]) * shares], -1
    )
    values = torch.cat([members.values, members.quantile(tail_levels)], -1)
    values = torch.sort(values.movedim(0, -2).flatten(-2), -1).values
    member_cdf = members.cdf(values.expand(n_members, *values.shape))
    # Rounding can make the mean dip by an ulp between neighbouring values;
    # where it stays flat the values are merged, leaving zero-width segments
    # (as averaging spline members does) rather than vertical ones.
    levels = torch.cummax(member_cdf.mean(0), -1).values
    rising = torch.ones_like(levels, dtype=torch.bool)
    rising[..., 1:] = levels[..., 1:] > levels[..., :-1]
    position = torch.arange(levels.shape[-1], device=levels.device)
    start = torch.cummax(torch.where(rising, position, 0), -1).values
    values = torch.gather(values, -1, start)
    left_scale = _tail_scale(member_cdf[..., 0], members.left_scale)
    right_scale = _tail_scale(1.0 - member_cdf[..., -1], members.right_scale)
    return PiecewiseLinearQuantileFunction(levels, values, left_scale, right_scale)


def _tail_scale(weight, scale):
    """The members' tail scales averaged with the weights of their tail
    probabilities; the plain mean where every weight underflows to zero."""
    total = weight.sum(0)
    weighted = (weight * scale).sum(0) / torch.where(total > 0, total, 1.0)
    return torch.where(total > 0, weighted, scale.mean(0))


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

    ``target`` holds the observations in its first ``n_outputs`` columns, the
    row weight next, then (for an ensemble with held-out rows) one 0/1
    column per member. Returns the scores, of shape ``(n_members, n_rows)``
    for member functions and ``(n_rows,)`` otherwise, the weights and the
    member columns (no columns without them).
    """
    shape = quantile_function.left_scale.shape
    n_outputs = shape[-1]
    observed = target[:, :n_outputs].expand(shape)
    scores = crps_closed_form(quantile_function, observed).mean(-1)
    return scores, target[:, n_outputs], target[:, n_outputs + 1 :]


def weighted_member_mean(scores, weight, members):
    """Weighted mean of per-row scores, each member on the rows that train it.

    ``scores`` are ``(n_rows,)``, or ``(n_members, n_rows)`` for every member
    of an ensemble; ``members`` holds one 0/1 column per member (1 where the
    row trains that member), or no columns when every row trains every
    member. Each member then follows the gradient of its own loss.
    """
    if scores.ndim == 1:
        return (weight * scores).sum() / weight.sum()
    weight = weight.expand_as(scores)
    if members.shape[1]:
        weight = weight * members.T
    total = weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)
    return (weight * scores).sum() / total


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
