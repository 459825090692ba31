"""Closed-form CRPS of a piecewise-linear quantile function with exponential tails."""

import torch


def crps_closed_form(quantile_function, z):
    """Continuous ranked probability score, in closed form.

    Computes ``CRPS(Q, z) = integral_0^1 2 rho_a(z - Q(a)) da`` with the
    pinball function ``rho_a(u) = u (a - 1{u < 0})``, exactly, for the
    piecewise-linear quantile function with exponential tails of
    :class:`~skquantile._quantile_function.PiecewiseLinearQuantileFunction`.
    The integral splits at the level ``at = F(z)`` where the integrand has
    its kink; it is the sum of the left tail, every linear segment and the
    right tail (Park et al., AISTATS 2022, with the segment terms rewritten in
    local coordinates so that steep segments cause no cancellation).

    The derivative of the score with respect to ``at`` is zero (``at`` is
    where ``z - Q(a)`` changes sign), so ``at`` is treated as a constant.

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
    levels, values = quantile_function.levels, quantile_function.values
    levels = levels.expand_as(values)
    at = quantile_function.cdf(z[..., None])[..., 0].detach()

    # Linear segments, with t = a - x0 in [0, w] and Q = y0 + (dy / w) t.
    x0, w = levels[..., :-1], levels[..., 1:] - levels[..., :-1]
    y0, dy = values[..., :-1], values[..., 1:] - values[..., :-1]
    e = z[..., None] - y0
    tr = torch.minimum(torch.clamp(at[..., None] - x0, min=0.0), w)
    # An average of ensemble members can hold zero-width segments (two
    # members' breakpoints at the same level); they add nothing to the score.
    fraction = tr / w.clamp(min=torch.finfo(w.dtype).tiny)
    segments = (
        2.0 * e * x0 * w
        + e * w * w
        - dy * x0 * w
        - (2.0 / 3.0) * dy * w * w
        - 2.0 * e * (w - tr)
        + dy * (w - tr * fraction)
    ).sum(-1)

    # Left tail on (0, A), Q(a) = q0 + c log(a / A).
    big_a, c = levels[..., 0], quantile_function.left_scale
    log_a = torch.log(big_a)
    u = z - values[..., 0] + c * log_a
    r = torch.minimum(at, big_a)
    left = (
        u * big_a * big_a
        - c * (big_a * big_a * log_a - 0.5 * big_a * big_a)
        - 2.0 * u * (big_a - r)
        + 2.0 * c * ((big_a * log_a - big_a) - (torch.xlogy(r, r) - r))
    )

    # Right tail on (1 - B, 1), Q(a) = qK + c log(B / (1 - a)).
    big_b, c = 1.0 - levels[..., -1], quantile_function.right_scale
    log_b = torch.log(big_b)
    u = z - values[..., -1] - c * log_b
    s = torch.minimum(1.0 - torch.maximum(at, levels[..., -1]), big_b)
    right = (
        2.0 * u * (big_b - 0.5 * big_b * big_b)
        + 2.0
        * c
        * (big_b * log_b - big_b - 0.5 * big_b * big_b * log_b + 0.25 * big_b * big_b)
        - 2.0 * (u * s + c * (torch.xlogy(s, s) - s))
    )
    return left + segments + right
