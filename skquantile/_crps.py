"""Closed-form CRPS of a piecewise-linear quantile function with exponential tails."""

import torch
from torch.autograd.function import once_differentiable
from torch.nn.functional import pad


def crps_closed_form(quantile_function, z):
    """Continuous ranked probability score, in closed form, with its gradient.

    Computes ``CRPS(Q, z) = integral_0^1 2 rho_a(z - Q(a)) da`` with the
    pinball function ``rho_a(u) = u (a - 1{u < 0})``, exactly, for the
    piecewise-linear quantile function with exponential tails of
    :class:`~skquantile._quantile_function.PiecewiseLinearQuantileFunction`
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
