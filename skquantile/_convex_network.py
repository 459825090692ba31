"""The convex estimator's network (a partially input-convex potential whose
gradient is the quantile map) and its weighted energy-score loss."""

import torch
from torch import nn
from torch.nn import functional as F

from ._layers import make_mlp, member_linear, unpack_target, weighted_member_mean

#: Added to the diagonal of the quadratic part so the map is strictly monotone.
MIN_CURVATURE = 1e-3

#: Seed of the latent draws of the energy score in evaluation mode.
VALIDATION_SEED = 0

#: Smallest distance in the energy score: keeps the gradient of a distance
#: finite where it is zero (a draw and itself, on the diagonal of the
#: pairwise distances).
NORM_FLOOR = 1e-6

#: Above this, the softplus of the convex path returns its input: torch's
#: default threshold, and a larger one in float64 (see :func:`softplus_threshold`).
SOFTPLUS_THRESHOLD = 20.0
FLOAT64_SOFTPLUS_THRESHOLD = 40.0

#: ``torch.cdist`` mode that computes differences, not the matrix-product form.
EXACT_DISTANCES = "donot_use_mm_for_euclid_dist"


class ConvexPotentialNetwork(nn.Module):
    """Quantile map ``Q(u | x) = grad_u psi(u; c(x))`` with ``psi`` convex in ``u``.

    A context network ``c(x)`` (an MLP on the features) parametrises

    ``psi(u; c) = m(c).u + 0.5 u' A(c) u + phi(u; c)``,

    where ``A(c) = L(c) L(c)' + MIN_CURVATURE I`` is positive definite (``L``
    lower triangular), and ``phi`` is a partially input-convex network
    (PICNN): its path in ``u`` has non-negative weights (a softplus of free
    weights), convex non-decreasing activations (softplus), free skip
    connections from ``u`` into every layer, positive context gates on the
    convex path and free context gates on the ``u`` path. Each term is convex
    in ``u`` for every context, so ``Q`` is a monotone map. The linear and
    quadratic terms alone give a Gaussian with mean ``m`` and covariance
    ``A^2``; the head is initialised there (``A = I``, ``phi`` nearly zero),
    a natural start for a standardised target, and ``phi`` adds the
    non-Gaussian shape.

    ``forward(X, latent)`` maps latent points ``latent`` of shape
    ``(n, n_points, n_outputs)``; without ``latent`` it maps
    ``n_energy_samples`` standard normal draws per row (in antithetic pairs,
    :meth:`_draw_latent`): fresh ones in training mode, the same seeded ones
    at every call in evaluation mode.

    With ``n_members > 1`` the module is an ensemble of that many
    independent networks (own weights, own initialisation) evaluated side by
    side, every parameter with a leading members dimension. The potential
    of the ensemble is the members' mean potential, a mean of convex
    functions and so convex: its gradient, the ensemble's map, is the
    average of the members' maps at the same latent point, again a monotone
    map (in one dimension the average quantile function). In training mode
    ``forward`` returns every member's draws (fresh latent draws of its own,
    a leading members dimension), so that each member is trained on its own
    energy score; in evaluation mode it returns the ensemble's draws.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes,
        activation,
        potential_layer_sizes,
        n_energy_samples,
        n_members=1,
    ):
        super().__init__()
        self.n_outputs = n_outputs
        self.n_energy_samples = n_energy_samples
        self.n_members = n_members
        self.context, width = make_mlp(
            n_features, hidden_layer_sizes, activation, n_members
        )
        d = n_outputs
        self.location = member_linear(width, d, n_members)
        self.n_triangle = d * (d + 1) // 2
        self.cholesky = member_linear(width, self.n_triangle, n_members)
        rows, columns = torch.tril_indices(d, d)
        self.register_buffer("tril_rows", rows)
        self.register_buffer("tril_columns", columns)
        with torch.no_grad():
            self.cholesky.weight.mul_(0.1)
            diagonal = (rows == columns).float()
            self.cholesky.bias.copy_(diagonal.expand_as(self.cholesky.bias))
            self.location.weight.mul_(0.1)
            self.location.bias.zero_()

        sizes = list(potential_layer_sizes)
        members = () if n_members == 1 else (n_members,)
        self.u_gates = nn.ModuleList(member_linear(width, d, n_members) for _ in sizes)
        self.u_layers = nn.ModuleList(
            member_linear(d, size, n_members) for size in sizes
        )
        self.context_layers = nn.ModuleList(
            member_linear(width, size, n_members) for size in sizes
        )
        self.z_gates = nn.ModuleList(
            member_linear(width, size, n_members) for size in sizes[:-1]
        )
        self.z_weights = nn.ParameterList(
            nn.Parameter(torch.randn(*members, size, previous) * 0.1 - 2.0)
            for previous, size in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.output_gate = member_linear(width, sizes[-1], n_members)
        self.output_weight = nn.Parameter(torch.full((*members, sizes[-1]), -3.0))

    #: Indices of the members whose mean potential is the ensemble's (all
    #: members if ``None``); set on a copy to score rows by the members that
    #: did not train on them.
    pooled_members = None

    def forward(self, X, latent=None):
        context = self.context(X)
        if latent is None:
            # Training draws fresh points every step. Evaluation (the
            # validation score that early stopping watches) uses the same
            # seeded points at every epoch, so two epochs are compared on
            # common draws and the Monte Carlo noise of the estimate does not
            # decide when training stops.
            latent = self._draw_latent(context, own_per_member=self.training)
        return self.transport(latent, context)

    def member_outputs(self, X):
        """Every member's draws at the seeded evaluation points, shape
        ``(n_members, n, n_energy_samples, n_outputs)``, in any mode: the
        members are scored on common latent points."""
        context = self.context(X)
        latent = self._draw_latent(context, own_per_member=False)
        return self.transport(latent.expand(self.n_members, *latent.shape), context)

    def _draw_latent(self, context, own_per_member):
        """The latent points of the energy score, in antithetic pairs.

        Of the ``n_energy_samples`` points of a row, the last
        :func:`antithetic_pairs` are the negations of the first ones, the
        rest independent standard normal draws. Every point is still a
        standard normal draw, so the mean distance to the observation stays
        unbiased, and :func:`energy_row_scores` leaves the pairs out of the
        mean distance between draws. A map that is monotone sends ``u`` and
        ``-u`` to opposite sides, so the pairs cancel much of the Monte
        Carlo noise of the score and of its gradient.
        """
        generator = None
        if not self.training:
            generator = torch.Generator(device=context.device)
            generator.manual_seed(VALIDATION_SEED)
        members = (self.n_members,) if own_per_member and self.n_members > 1 else ()
        n_pairs = antithetic_pairs(self.n_energy_samples)
        independent = torch.randn(
            *members,
            context.shape[-2],
            self.n_energy_samples - n_pairs,
            self.n_outputs,
            dtype=context.dtype,
            device=context.device,
            generator=generator,
        )
        return torch.cat([independent, -independent[..., :n_pairs, :]], -2)

    def transport(self, latent, context):
        """``grad_u psi(u; c)`` at ``u = latent`` of shape (n, n_points, d).

        For an ensemble, ``latent`` of shape (n_members, n, n_points, d)
        gives each member's map at its own points; latent points shared by
        the members give the ensemble's map (the gradient of the mean
        potential).

        The gradient is written out (one reverse pass through the network,
        by hand) rather than taken with ``torch.autograd.grad``: training
        then back-propagates once through an ordinary graph instead of
        through autograd's graph of a gradient, which made a training step
        about a fifth cheaper. It is the gradient of :meth:`potential`
        exactly; the tests compare the two.
        """
        return self._of_members(self._gradient, latent, context)

    def potential(self, latent, context):
        """``psi(u; c)`` of shape (n, n_points) for ``u = latent`` (n, n_points, d).

        For an ensemble, ``latent`` of shape (n_members, n, n_points, d)
        gives each member's potential, (n_members, n, n_points); shared
        latent points give the members' mean potential.
        """
        return self._of_members(self._potential, latent, context)

    def inverse(self, context, z, max_iter=100, tolerance=1e-12):
        """Latent preimage ``u`` with ``Q(u | x) = z``, by damped Newton steps.

        ``context`` is the context network's output for the rows and ``z``
        their standardised targets, shape (n_rows, d). ``u`` minimises the
        strictly convex ``psi(u; c) - <u, z>``, whose gradient is
        ``Q(u) - z`` and whose Hessian is the Jacobian of ``Q``; a
        backtracking line search on that objective makes every step a
        descent step. Iterates until no row's step exceeds ``tolerance``.
        """
        d = z.shape[-1]

        def objective(u):
            return self.potential(u[:, None, :], context)[:, 0] - (u * z).sum(-1)

        u = torch.zeros_like(z)
        for _ in range(max_iter):
            u = u.detach().requires_grad_(True)
            with torch.no_grad():
                value = objective(u)
            # The objective's gradient is Q(u) - z, its Hessian the Jacobian of Q.
            gradient = self.transport(u[:, None, :], context)[:, 0] - z
            hessian = torch.stack(
                [
                    torch.autograd.grad(gradient[:, j].sum(), u, retain_graph=True)[0]
                    for j in range(d)
                ],
                dim=1,
            )
            gradient, hessian, value = (
                gradient.detach(),
                hessian.detach(),
                value.detach(),
            )
            step = torch.linalg.solve(hessian, gradient[..., None])[..., 0]
            decrease = (gradient * step).sum(-1)
            # Near the solution the decrease is below the rounding error of
            # the objective; the slack lets the full Newton step through then.
            slack = 1e-13 * (1.0 + value.abs())
            size = torch.ones(len(u), dtype=u.dtype, device=u.device)
            with torch.no_grad():
                for _ in range(40):
                    candidate = u - size[:, None] * step
                    accepted = (
                        objective(candidate) <= value - 1e-4 * size * decrease + slack
                    )
                    if accepted.all():
                        break
                    size = torch.where(accepted, size, 0.5 * size)
            u = candidate.detach()
            if (size[:, None] * step).abs().max() < tolerance:
                break
        return u.detach()

    def _of_members(self, function, latent, context):
        """``function`` of every member at its own latent points, or for
        latent points shared by the members (no members dimension) the
        members' mean: the ensemble's potential and map."""
        if self.n_members > 1 and latent.ndim == 3:
            shared = latent.expand(self.n_members, *latent.shape)
            values = function(shared, context)
            if self.pooled_members is not None:
                values = values[self.pooled_members]
            return values.mean(0)
        return function(latent, context)

    def _potential(self, latent, context):
        lower = self._lower(context)
        context = context.unsqueeze(-2)
        transformed = torch.einsum("...nji,...npj->...npi", lower, latent)
        quadratic = 0.5 * (transformed**2).sum(-1) + 0.5 * MIN_CURVATURE * (
            latent**2
        ).sum(-1)
        linear = (self._context_term(self.location, context) * latent).sum(-1)
        layers = self._convex_layers(latent, context)
        z = convex_softplus(layers[-1][0])
        gated = z * self._output_gate(context)
        convex = (gated * self._output_weight()).sum(-1)
        return linear + quadratic + convex

    def _gradient(self, latent, context):
        """``grad_u`` of :meth:`_potential`, by one reverse pass written out."""
        lower = self._lower(context)
        context = context.unsqueeze(-2)
        transformed = torch.einsum("...nji,...npj->...npi", lower, latent)
        gradient = torch.einsum("...nji,...npi->...npj", lower, transformed)
        gradient = _add(gradient, MIN_CURVATURE * latent)
        gradient = _add(gradient, self._context_term(self.location, context))
        layers = self._convex_layers(latent, context)
        # d convex / d z of the last layer, then down the convex path: the
        # derivative of softplus is the sigmoid.
        d_z = self._output_gate(context) * self._output_weight()
        for k in range(len(layers) - 1, -1, -1):
            pre, u_gate, z_gate, z_weight = layers[k]
            d_pre = _times_softplus_derivative(d_z, pre)
            gradient = _add(
                gradient,
                _mul(self._point_term_transpose(self.u_layers[k], d_pre), u_gate),
            )
            if k > 0:
                d_z = _mul(self._member_matmul(d_pre, z_weight), z_gate)
        return gradient

    def _lower(self, context):
        """The lower-triangular factor ``L(c)``, shape (..., n, d, d)."""
        d = self.n_outputs
        lower = torch.zeros(
            *context.shape[:-1], d, d, dtype=context.dtype, device=context.device
        )
        lower[..., self.tril_rows, self.tril_columns] = self.cholesky(context)
        return lower

    def _convex_layers(self, latent, context):
        """Every layer of ``phi``: (pre-activation, gate of ``u``, gate and
        weight of the previous layer's ``z``, ``None`` for the first layer)."""
        layers = []
        z = None
        for k, (u_gate, u_layer, context_layer) in enumerate(
            zip(self.u_gates, self.u_layers, self.context_layers, strict=True)
        ):
            u_gate = self._context_term(u_gate, context)
            pre = _add(
                self._point_term(u_layer, latent * u_gate),
                self._context_term(context_layer, context),
            )
            z_gate = z_weight = None
            if z is not None:
                z_gate = F.softplus(self._context_term(self.z_gates[k - 1], context))
                z_weight = F.softplus(self.z_weights[k - 1]) / weight_scale(z)
                pre = _add(
                    pre,
                    self._member_matmul(_mul(z, z_gate), z_weight.transpose(-1, -2)),
                )
            layers.append((pre, u_gate, z_gate, z_weight))
            if k + 1 < len(self.u_layers):
                z = convex_softplus(pre)
        return layers

    def _output_gate(self, context):
        return F.softplus(self._context_term(self.output_gate, context))

    def _output_weight(self):
        """The positive output weights, shaped to broadcast over (..., n,
        n_points, width)."""
        weight = F.softplus(self.output_weight)
        if self.n_members == 1:
            return weight
        return weight[:, None, None, :]

    def _member_matmul(self, values, weight):
        """``values`` (..., n, n_points, k) times each member's ``weight`` (k, j).

        For an ensemble the rows and points are flattened into one batched
        product per member: broadcasting the weights over the rows instead
        would copy them once per row and multiply row by row.
        """
        if self.n_members == 1:
            return values @ weight
        flat = torch.bmm(values.flatten(1, 2), weight)
        return flat.unflatten(1, values.shape[1:3])

    def _context_term(self, layer, context):
        """``layer`` of the context (shape (..., n, 1, width)), for all points."""
        if self.n_members == 1:
            return layer(context)
        return layer(context[..., 0, :]).unsqueeze(-2)

    def _point_term(self, layer, values):
        """``layer`` of per-point values of shape (..., n, n_points, k)."""
        if self.n_members == 1:
            return layer(values)
        return layer(values.flatten(1, 2)).unflatten(1, values.shape[1:3])

    def _point_term_transpose(self, layer, values):
        """The transposed weight of ``layer`` applied to per-point values:
        the derivative of :meth:`_point_term` with respect to its input."""
        # nn.Linear stores (out, in); MemberLinear stores (members, in, out).
        weight = layer.weight
        if self.n_members > 1:
            weight = weight.transpose(-1, -2)
        return self._member_matmul(values, weight)


def _add(total, term):
    """``total + term``; in place (``total`` a fresh intermediate array)
    when no autograd graph is recorded.

    Predictions run the map on blocks of latent points whose arrays are
    several MB each. Every array a block allocates and frees is, with
    glibc's allocator, often handed back to the system and faulted in again
    by the next block; working in place leaves a block fewer arrays to
    allocate (five instead of thirteen of the widest, for two layers), for
    the same numbers. Training records a graph and keeps every
    intermediate.
    """
    if torch.is_grad_enabled():
        return total + term
    return total.add_(term)


def _mul(values, factor):
    """``values * factor``; in place like :func:`_add`."""
    if torch.is_grad_enabled():
        return values * factor
    return values.mul_(factor)


def _times_softplus_derivative(d_z, pre):
    """``d_z`` times :func:`softplus_derivative` of ``pre``; in place of
    ``pre`` (which the reverse pass no longer needs) like :func:`_add`."""
    if torch.is_grad_enabled() or not _SIGMOID_SATURATES.get(pre.dtype, False):
        return d_z * softplus_derivative(pre)
    return pre.sigmoid_().mul_(d_z)


def softplus_threshold(dtype):
    """Where the softplus of the convex path becomes the identity, by dtype.

    torch's default, 20, in float32 and narrower types; 40 in float64 (the
    float64 inference), where ``log1p(exp(x))`` still differs from ``x``
    between 20 and about 37. At either threshold the sigmoid, the
    derivative, already rounds to exactly 1 (``exp(-x)`` is below half the
    spacing of the dtype's numbers near 1), so the derivative is the
    sigmoid everywhere, with no selection of the values above the threshold.
    """
    return FLOAT64_SOFTPLUS_THRESHOLD if dtype == torch.float64 else SOFTPLUS_THRESHOLD


def convex_softplus(values):
    """The activation of the convex path: softplus, the identity above
    :func:`softplus_threshold`."""
    return F.softplus(values, threshold=softplus_threshold(values.dtype))


def softplus_derivative(values):
    """The derivative of :func:`convex_softplus`: the sigmoid, and exactly 1
    where the softplus is the identity.

    In float32 and float64 the sigmoid already rounds to exactly 1 above the
    threshold, so the selection is left out (in training it was a sixth of a
    step of the default multi-target ensemble, in float64 inference a tenth
    of a prediction), for the same numbers.
    """
    slope = torch.sigmoid(values)
    if _SIGMOID_SATURATES.get(values.dtype, False):
        return slope
    return torch.where(values > softplus_threshold(values.dtype), 1.0, slope)


#: Whether the sigmoid of every value above :func:`softplus_threshold` rounds
#: to exactly 1 in a floating dtype.
_SIGMOID_SATURATES = {
    dtype: bool(
        torch.sigmoid(torch.tensor(softplus_threshold(dtype), dtype=dtype)).item()
        == 1.0
    )
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64)
}


def weight_scale(z):
    # Averaging rather than summing over the previous layer keeps the size of
    # the convex path independent of its width.
    return z.shape[-1]


def antithetic_pairs(n_draws):
    """How many of ``n_draws`` latent points per row are the negations of
    others (:meth:`ConvexPotentialNetwork._draw_latent`): half of them,
    rounded down, from three points on. Two points stay independent: the
    score needs at least one pair of independent draws for the spread."""
    return n_draws // 2 if n_draws >= 3 else 0


def energy_row_scores(draws, target, beta=1.0, antithetic=True):
    """The energy score of every row, and the target's weights.

    ``draws`` are ``(n, n_draws, d)``, or ``(n_members, n, n_draws, d)``
    for every member of an ensemble. ``target`` is packed by
    :func:`~skquantile._layers.pack_target`. For independent draws
    ``w_1..w_N`` of one row and observation ``y`` the unbiased estimate is
    ``mean_k |w_k - y|^beta - sum_{j != k} |w_j - w_k|^beta / (2 N (N -
    1))``. With ``antithetic`` the draws are the images of latent points of
    which the last ``P`` (:func:`antithetic_pairs`) negate the first ``P``;
    a draw and its partner are not independent, so the ``2 P`` ordered
    pairs of partners are left out of the second mean, which stays
    unbiased (every other pair is independent). Returns the scores (shape
    ``draws.shape[:-2]``), the weights and the member columns.
    """
    d, n_draws = draws.shape[-1], draws.shape[-2]
    n_pairs = antithetic_pairs(n_draws) if antithetic else 0
    observed, weight, members = unpack_target(target, d)
    to_observation = _norm(draws - observed[:, None, :], beta).mean(-1)
    # All pairwise distances of one row's draws by torch.cdist (about three
    # times cheaper, forward and backward, than differences of all pairs);
    # without the matrix-product shortcut, which loses precision for close
    # points. The distances of the diagonal are exactly zero, raised to the
    # floor: their sum is taken off again.
    rows = draws.reshape(-1, n_draws, d)
    pairwise = torch.cdist(rows, rows, compute_mode=EXACT_DISTANCES).clamp_min(
        NORM_FLOOR
    )
    if beta != 1.0:
        pairwise = pairwise**beta
    pairwise = pairwise.sum((-2, -1)) - n_draws * NORM_FLOOR**beta
    n_independent = n_draws * (n_draws - 1)
    if n_pairs:
        first, last = rows[:, :n_pairs], rows[:, n_draws - n_pairs :]
        pairwise = pairwise - 2.0 * _norm(first - last, beta).sum(-1)
        n_independent -= 2 * n_pairs
    spread = pairwise.reshape(draws.shape[:-2]) / (2.0 * n_independent)
    return to_observation - spread, weight, members


class WeightedEnergyScoreLoss(nn.Module):
    """Weighted mean energy score of model draws against observations.

    The target carries the observations in its first columns, the row
    weight next and, for an ensemble whose members hold out rows, one 0/1
    column per member (:func:`energy_row_scores`). The draws of an ensemble
    in training mode carry a leading members dimension: each member is
    scored on the rows that train it (:func:`weighted_member_mean`).
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, draws, target):
        return weighted_member_mean(*self.row_scores(draws, target))

    def row_scores(self, draws, target):
        """The energy score of every row (and member), the weights and the
        member columns (:func:`energy_row_scores`)."""
        return energy_row_scores(draws, target, self.beta)


def _norm(difference, beta):
    # The small floor keeps the gradient of the norm finite at zero distance.
    squared = (difference**2).sum(-1).clamp_min(NORM_FLOOR**2)
    return squared ** (0.5 * beta)
