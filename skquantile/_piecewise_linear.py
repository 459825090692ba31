"""The piecewise-linear quantile family with exponential tails: its quantile
function and distribution function, its closed-form CRPS (with an analytic
gradient), and the pooling of an ensemble's members (mixture or average)."""

import math
from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable
from torch.nn.functional import pad


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
        inner = y0 + (y1 - y0) * _share(alpha, x0, x1)
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
        segment = _segment_index(values, z)
        return _cdf_between(
            z,
            (_gather(levels, segment), _gather(levels, segment + 1)),
            (_gather(values, segment), _gather(values, segment + 1)),
            (levels[..., :1], values[..., :1], self.left_scale[..., None]),
            (levels[..., -1:], values[..., -1:], self.right_scale[..., None]),
        )


def _cdf_between(z, segment_levels, segment_values, left_tail, right_tail):
    """The distribution function at ``z``, from the levels and values at the
    ends of the linear segment around each ``z`` and, for the two tails,
    ``(level, value, scale)`` at the first and the last breakpoint."""
    (x0, x1), (y0, y1) = segment_levels, segment_values
    (first_level, first_value, left_scale) = left_tail
    (last_level, last_value, right_scale) = right_tail
    # A segment of zero height (values equal to float64 resolution, far
    # outside the training data) holds all of its probability at that
    # value: the CDF there is the level at the segment's top, not 0/0.
    rises = y1 > y0
    share = (z - y0) / torch.where(rises, y1 - y0, 1.0)
    inner = x0 + (x1 - x0) * torch.where(rises, share, 1.0).clamp(0.0, 1.0)
    # The clamps keep the branch that torch.where discards finite, so that
    # no inf or nan leaks into gradients.
    left = first_level * torch.exp(((z - first_value) / left_scale).clamp(max=0.0))
    right = 1.0 - (1.0 - last_level) * torch.exp(
        -((z - last_value) / right_scale).clamp(min=0.0)
    )
    return torch.where(z < first_value, left, torch.where(z > last_value, right, inner))


def _share(alpha, x0, x1):
    """Where ``alpha`` lies between the levels ``x0 <= x1`` of a segment, in
    [0, 1]. A segment of zero width (a run of equal levels, as pooling can
    leave) is only reached at its level, where the share is 0 (its first
    value), not 0/0."""
    width = x1 - x0
    return ((alpha - x0) / torch.where(width > 0, width, 1.0)).clamp(0.0, 1.0)


def _segment_index(breakpoints, points):
    """Index of the linear segment of ``breakpoints`` that holds each point."""
    breakpoints = breakpoints.expand(*points.shape[:-1], breakpoints.shape[-1])
    index = torch.searchsorted(breakpoints.contiguous(), points.contiguous()) - 1
    return index.clamp(0, breakpoints.shape[-1] - 2)


def _gather(tensor, index):
    tensor = tensor.expand(*index.shape[:-1], tensor.shape[-1])
    return torch.gather(tensor, -1, index)


def crps_closed_form(quantile_function, z):
    """Continuous ranked probability score, in closed form, with its gradient.

    Computes ``CRPS(Q, z) = integral_0^1 2 rho_a(z - Q(a)) da`` with the
    pinball function ``rho_a(u) = u (a - 1{u < 0})``, exactly, for the
    piecewise-linear quantile function with exponential tails of
    :class:`~skquantile._piecewise_linear.PiecewiseLinearQuantileFunction`
    (the closed form of Park et al., AISTATS 2022, written through its
    gradient as below).

    **Gradient.** With ``at = F(z)`` and ``g(a) = 2 (1{a > at} - a)``, the
    derivative of the score along any parameter ``theta`` of ``Q`` is
    ``integral_0^1 g(a) dQ(a)/dtheta da`` (the kink at ``at`` adds nothing,
    since ``z - Q(at) = 0``). ``Q`` is linear in its values ``y_k`` and tail
    scales ``c``: between breakpoints ``k`` and ``k + 1`` a value moves ``Q``
    by a hat function, ``1 - t`` or ``t`` at the position ``t`` within the
    segment, and a tail scale by ``log(a / A)`` or ``log(B / (1 - a))``.
    Every such integral has a closed form. Within segment ``k`` (level
    ``x_k``, width ``w``) the kink sits at ``t = tau = clamp((z - y_k) /
    (y_{k+1} - y_k), 0, 1)``, so no search for ``F(z)`` is needed.

    **Score.** ``rho_a`` is positively homogeneous and ``Q`` is linear in
    ``(y, c)``, so the score is homogeneous of degree one in ``(y, c, z)``,
    and it is unchanged by shifting ``y`` and ``z`` together. Euler's
    theorem then gives the score from its gradient:
    ``CRPS = sum_k (y_k - z) dCRPS/dy_k + c_l dCRPS/dc_l + c_r dCRPS/dc_r``.
    The forward pass computes the gradient once and the backward pass only
    scales it, a few dozen tensor operations per step instead of the
    hundred or so of autograd's record of the score's formula, which is
    most of the cost of a training step of the small networks used here.

    Parameters
    ----------
    quantile_function : PiecewiseLinearQuantileFunction
        Quantile functions with leading dimensions ``...``.
    z : torch.Tensor of shape (...)
        One observation per quantile function.

    Returns
    -------
    torch.Tensor of shape (...)
        The score of each observation, non-negative.
    """
    levels, values, left_scale, right_scale = quantile_function
    return _ClosedFormCRPS.apply(levels, values, left_scale, right_scale, z)


def _integrals(levels, values, left_scale, right_scale, z, with_levels):
    """The score's derivatives along the breakpoint values, the tail scales,
    the observation and (if ``with_levels``) the breakpoint levels.

    On segment ``k``, ``I0 = integral g (1 - t) da`` and ``I1 = integral g t
    da`` are ``2 w [(1 - tau)^2 / 2 - x_k / 2 - w / 6]`` and ``2 w [(1 -
    tau^2) / 2 - x_k / 2 - w / 3]``; the value at breakpoint ``k`` collects
    ``I0`` of segment ``k`` and ``I1`` of segment ``k - 1``, and the first and
    last values the whole tail beyond them. Moving a level moves ``Q`` by
    minus the slope times the same hat functions.
    """
    tiny = torch.finfo(values.dtype).tiny
    x0, w = levels[..., :-1], levels[..., 1:] - levels[..., :-1]
    dy = values[..., 1:] - values[..., :-1]
    rise = z[..., None] - values[..., :-1]
    # A segment of zero height (far outside the training data, in float64)
    # lies wholly below an observation at its value: F(z) is its top level.
    tau = torch.where(
        dy > 0, (rise / dy.clamp(min=tiny)).clamp(0.0, 1.0), (rise >= 0).to(dy.dtype)
    )
    base = x0 + w * (1.0 / 3.0)
    i0 = w * ((1.0 - tau) ** 2 - base)
    i1 = w * (1.0 - tau * tau - base - w * (1.0 / 3.0))

    # Tails: r = min(F(z), A) and s = min(1 - F(z), B), through the
    # exponents of the tails' distribution functions (no logarithm needed).
    big_a, big_b = levels[..., 0], 1.0 - levels[..., -1]
    left_exponent = ((z - values[..., 0]) / left_scale).clamp(max=0.0)
    right_exponent = ((z - values[..., -1]) / right_scale).clamp(min=0.0)
    r = big_a * torch.exp(left_exponent)
    s = big_b * torch.exp(-right_exponent)
    left_mass = 2.0 * (big_a - r) - big_a * big_a
    right_mass = 2.0 * s - (1.0 - levels[..., -1] ** 2)

    grad_values = pad(i0, (0, 1)) + pad(i1, (1, 0))
    grad_values[..., 0] += left_mass
    grad_values[..., -1] += right_mass
    grad_left = 2.0 * (r - big_a - r * left_exponent) + 0.5 * big_a * big_a
    grad_right = 2.0 * (s - big_b + s * right_exponent) + 0.5 * big_b * big_b
    # dCRPS/dz = 2 F(z) - 1, with F(z) = r + sum of w tau + (B - s).
    grad_z = 2.0 * (r + (w * tau).sum(-1) + big_b - s) - 1.0

    grad_levels = None
    if with_levels:
        slope = dy / w.clamp(min=tiny)
        grad_levels = -(pad(slope * i0, (0, 1)) + pad(slope * i1, (1, 0)))
        grad_levels[..., 0] -= left_scale / big_a * left_mass
        grad_levels[..., -1] -= right_scale / big_b * right_mass
    return grad_levels, grad_values, grad_left, grad_right, grad_z


class _ClosedFormCRPS(torch.autograd.Function):
    """The closed-form CRPS with its analytic gradient (see
    :func:`crps_closed_form`)."""

    @staticmethod
    def forward(ctx, levels, values, left_scale, right_scale, z):
        shapes = [
            tensor.shape for tensor in (levels, values, left_scale, right_scale, z)
        ]
        # The levels' gradient only where they are learned (spline pieces).
        gradients = _integrals(
            levels.expand_as(values),
            values,
            left_scale,
            right_scale,
            z,
            ctx.needs_input_grad[0],
        )
        _, grad_values, grad_left, grad_right, _ = gradients
        score = (
            ((values - z[..., None]) * grad_values).sum(-1)
            + left_scale * grad_left
            + right_scale * grad_right
        )
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(*gradients)
            ctx.shapes = shapes
        return score

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_score):
        grad_inputs = []
        for needed, gradient, shape, per_breakpoint in zip(
            ctx.needs_input_grad,
            ctx.saved_tensors,
            ctx.shapes,
            (True, True, False, False, False),
            strict=True,
        ):
            if not needed or gradient is None:
                grad_inputs.append(None)
                continue
            scale = grad_score[..., None] if per_breakpoint else grad_score
            grad_inputs.append((scale * gradient).sum_to_size(shape))
        return tuple(grad_inputs)


#: Ways of combining the members of an ensemble (``pooling``).
POOLINGS = ("quantiles", "mixture")

#: Shares of a member's tail probability at which :func:`mix_quantile_functions`
#: adds breakpoints in that tail: from 1/32 up, each sqrt(2) times the one
#: before, so that the chord of an exponential tail between two of them is
#: within 2% of the tail's probability there.
MIXTURE_TAIL_SHARES = tuple(2.0 ** (-k / 2) for k in range(10, 0, -1))

#: Member distribution-function evaluations per block of rows in
#: :func:`mix_quantile_functions` on the CPU (2 MB per float64 temporary).
MIXTURE_BLOCK_ELEMENTS = 2**18


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


def select_members(members, index):
    """Some members (``index`` along the leading axis) of an ensemble's
    functions; shared levels (without a members axis) stay shared."""
    levels = members.levels
    if levels.ndim == members.values.ndim:
        levels = levels[index]
    return PiecewiseLinearQuantileFunction(
        levels,
        members.values[index],
        members.left_scale[index],
        members.right_scale[index],
    )


def _member_rows(members, rows):
    """The members' functions of some rows: ``rows`` indexes the axis after
    the members (a slice), or the row axes (a boolean mask of their shape,
    which flattens them into one)."""
    levels = members.levels
    if levels.ndim == members.values.ndim:
        levels = levels[:, rows]
    return PiecewiseLinearQuantileFunction(
        levels,
        members.values[:, rows],
        members.left_scale[:, rows],
        members.right_scale[:, rows],
    )


def _mixture_union(members):
    """The breakpoints of the members' mixture: the sorted union of every
    member's breakpoints and tail points, shape (..., union)."""
    levels = members.levels.expand_as(members.values)
    shares = levels.new_tensor(MIXTURE_TAIL_SHARES)
    tail_levels = torch.cat(
        [levels[..., :1] * shares, 1.0 - (1.0 - levels[..., -1:]) * shares], -1
    )
    values = torch.cat([members.values, members.quantile(tail_levels)], -1)
    return torch.sort(values.movedim(0, -2).flatten(-2), -1).values


def _mix(members):
    """:func:`mix_quantile_functions` on one block."""
    n_members = members.values.shape[0]
    values = _mixture_union(members)
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


def mixture_quantiles(members, alpha):
    """Quantiles of the members' mixture at levels ``alpha``, without
    building the whole mixture.

    :func:`mix_quantile_functions` evaluates every member's distribution
    function at every value of the union of the members' breakpoints (for
    five members of 40 knots, 1500 evaluations per row) to find the
    mixture's level at each. A quantile at level ``a`` needs only the two
    union values whose mixture levels bracket ``a``: bisection over the
    sorted union finds them with the mixture's level at about ``log2`` of
    the union's size values (a dozen), then the same linear interpolation
    and tails as the full function. Where the mixture's level stays equal
    over consecutive union values (rounding far in a tail) the full
    function keeps the first value of such a run, and so does this one.

    ``alpha`` is (m,) for every row or (..., m) with the members' row
    dimensions; returns (..., m). The same numbers as
    ``mix_quantile_functions(members).quantile(alpha)`` up to rounding:
    the levels are computed by the same operations on fewer values, and
    the full function's running maximum of the levels (which only undoes
    dips of a rounding error) is left out.
    """
    n_members = members.values.shape[0]
    union = _mixture_union(members)
    size = union.shape[-1]
    alpha = alpha.expand(*union.shape[:-1], alpha.shape[-1])

    def member_levels(index):
        points = torch.gather(union, -1, index)
        return members.cdf(points.expand(n_members, *points.shape))

    def level_at(index):
        return member_levels(index).mean(0)

    def first_at_least(target):
        # The first union index whose level is at least ``target`` (or size).
        low = torch.zeros(target.shape, dtype=torch.long, device=union.device)
        high = torch.full_like(low, size)
        for _ in range(size.bit_length()):
            middle = (low + high) // 2
            below = level_at(middle.clamp(max=size - 1)) < target
            searching = low < high
            low = torch.where(searching & below, middle + 1, low)
            high = torch.where(searching & ~below, middle, high)
        return low

    def run_start(index, level):
        # The first index of the run of equal levels that ends at ``index``
        # (whose first value the full mixture keeps), by bisection only
        # where there is such a run. The operations of a search and of a
        # single level can round alike values differently by an ulp, so the
        # start found is bounded by where it must lie.
        level_run = (index > 0) & (level_at((index - 1).clamp(min=0)) == level)
        if not level_run.any():
            return index
        return torch.where(
            level_run, torch.minimum(first_at_least(level), index), index
        )

    segment = (first_at_least(alpha) - 1).clamp(0, size - 2)
    x0, x1 = level_at(segment), level_at(segment + 1)
    y0 = torch.gather(union, -1, run_start(segment, x0))
    y1 = torch.where(x1 > x0, torch.gather(union, -1, segment + 1), y0)
    inner = y0 + (y1 - y0) * _share(alpha, x0, x1)

    first = torch.zeros((*union.shape[:-1], 1), dtype=torch.long, device=union.device)
    first_cdf, last_cdf = member_levels(first), member_levels(first + size - 1)
    first_level, last_level = first_cdf.mean(0), last_cdf.mean(0)
    last_value = torch.gather(union, -1, run_start(first + size - 1, last_level))
    left_scale = _tail_scale(first_cdf[..., 0], members.left_scale)
    right_scale = _tail_scale(1.0 - last_cdf[..., 0], members.right_scale)
    left = union[..., :1] + left_scale[..., None] * torch.log(alpha / first_level)
    right = last_value + right_scale[..., None] * torch.log(
        (1.0 - last_level) / (1.0 - alpha)
    )
    return torch.where(
        alpha < first_level, left, torch.where(alpha > last_level, right, inner)
    )


def mixture_cdf(members, z):
    """The distribution function of the members' mixture at values ``z``,
    without building the whole mixture.

    The full function (:func:`mix_quantile_functions`) interpolates
    linearly between the mixture's levels at the sorted union of the
    members' breakpoints. A value needs only the two union values around
    it, found by a search of the union, and the mixture's level at them
    (and at the union's ends, for the tails): a handful of evaluations of
    the members' distribution functions instead of one per union value.

    Where the mixture's level does not rise across the union values around
    ``z``, or at its top (rounding far in a tail), the full function merges
    values; such rows (rare) are computed from the full function of their
    own rows. ``z`` is (..., m) with the members' row dimensions; returns
    (..., m), the same numbers as ``mix_quantile_functions(members).cdf(z)``
    up to rounding (the full function's running maximum of the levels only
    undoes dips of a rounding error).
    """
    n_members = members.values.shape[0]
    union = _mixture_union(members)
    size = union.shape[-1]

    def member_levels(index):
        points = torch.gather(union, -1, index)
        return members.cdf(points.expand(n_members, *points.shape))

    segment = _segment_index(union, z)
    before = (segment - 1).clamp(min=0)
    x_before, x0, x1 = (
        member_levels(index).mean(0) for index in (before, segment, segment + 1)
    )
    ends = torch.tensor([0, size - 2, size - 1], device=union.device)
    end_cdf = member_levels(ends.expand(*union.shape[:-1], 3))
    first_level, top_before, last_level = end_cdf.mean(0)[..., None].unbind(-2)
    cdf = _cdf_between(
        z,
        (x0, x1),
        (torch.gather(union, -1, segment), torch.gather(union, -1, segment + 1)),
        (
            first_level,
            union[..., :1],
            _tail_scale(end_cdf[..., 0], members.left_scale)[..., None],
        ),
        (
            last_level,
            union[..., -1:],
            _tail_scale(1.0 - end_cdf[..., 2], members.right_scale)[..., None],
        ),
    )

    merged = (x1 <= x0) | ((segment > 0) & (x_before >= x0))
    merged = merged.any(-1) | (top_before >= last_level)[..., 0]
    if merged.any():
        cdf[merged] = _mix(_member_rows(members, merged)).cdf(z[merged])
    return cdf


def mixture_bisection_pays(members, n_levels):
    """Whether :func:`mixture_quantiles` costs less than building the
    mixture for ``n_levels`` levels per row: a dozen evaluations of the
    members' distribution functions per level against one per union value."""
    union = _union_size(members)
    return n_levels * (union.bit_length() + 3) < union


def mixture_cdf_pays(members, n_values):
    """Whether :func:`mixture_cdf` costs less than building the mixture for
    ``n_values`` values per row: three evaluations of the members'
    distribution functions per value and three for the tails, against one
    per union value."""
    return 3 * n_values + 3 < _union_size(members)


def _union_size(members):
    """How many values the union of the members' breakpoints holds per row."""
    return members.values.shape[0] * (
        members.values.shape[-1] + 2 * len(MIXTURE_TAIL_SHARES)
    )


def _tail_scale(weight, scale):
    """The members' tail scales averaged with the weights of their tail
    probabilities; the plain mean where every weight underflows to zero."""
    total = weight.sum(0)
    weighted = (weight * scale).sum(0) / torch.where(total > 0, total, 1.0)
    return torch.where(total > 0, weighted, scale.mean(0))
