"""Torch modules of the convex estimator: the partially input-convex potential and
the energy-score loss."""

import torch
from torch import nn
from torch.nn import functional as F

from ._modules import make_mlp

#: Added to the diagonal of the quadratic part so the map is strictly monotone.
MIN_CURVATURE = 1e-3

#: Seed of the latent draws of the energy score in evaluation mode.
VALIDATION_SEED = 0


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
    ``n_energy_samples`` standard normal draws per row: fresh ones in
    training mode, the same seeded ones at every call in evaluation mode.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes,
        activation,
        potential_layer_sizes,
        n_energy_samples,
    ):
        super().__init__()
        self.n_outputs = n_outputs
        self.n_energy_samples = n_energy_samples
        self.context, width = make_mlp(n_features, hidden_layer_sizes, activation)
        d = n_outputs
        self.location = nn.Linear(width, d)
        self.n_triangle = d * (d + 1) // 2
        self.cholesky = nn.Linear(width, self.n_triangle)
        rows, columns = torch.tril_indices(d, d)
        self.register_buffer("tril_rows", rows)
        self.register_buffer("tril_columns", columns)
        with torch.no_grad():
            self.cholesky.weight.mul_(0.1)
            self.cholesky.bias.copy_((rows == columns).float())
            self.location.weight.mul_(0.1)
            self.location.bias.zero_()

        sizes = list(potential_layer_sizes)
        self.u_gates = nn.ModuleList(nn.Linear(width, d) for _ in sizes)
        self.u_layers = nn.ModuleList(nn.Linear(d, size) for size in sizes)
        self.context_layers = nn.ModuleList(nn.Linear(width, size) for size in sizes)
        self.z_gates = nn.ModuleList(nn.Linear(width, size) for size in sizes[:-1])
        self.z_weights = nn.ParameterList(
            nn.Parameter(torch.randn(size, previous) * 0.1 - 2.0)
            for previous, size in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.output_gate = nn.Linear(width, sizes[-1])
        self.output_weight = nn.Parameter(torch.full((sizes[-1],), -3.0))

    def forward(self, X, latent=None):
        context = self.context(X)
        if latent is None:
            # Training draws fresh points every step. Evaluation (the
            # validation score that early stopping watches) uses the same
            # seeded points at every epoch, so two epochs are compared on
            # common draws and the Monte Carlo noise of the estimate does not
            # decide when training stops.
            generator = None
            if not self.training:
                generator = torch.Generator(device=context.device)
                generator.manual_seed(VALIDATION_SEED)
            latent = torch.randn(
                len(X),
                self.n_energy_samples,
                self.n_outputs,
                dtype=context.dtype,
                device=context.device,
                generator=generator,
            )
        return self.transport(latent, context)

    def transport(self, latent, context):
        """``grad_u psi(u; c)`` at ``u = latent`` of shape (n, n_points, d)."""
        with torch.enable_grad():
            if not latent.requires_grad:
                latent = latent.detach().requires_grad_(True)
            potential = self.potential(latent, context)
            # The graph of the gradient is only needed to train through it.
            (gradient,) = torch.autograd.grad(
                potential.sum(), latent, create_graph=self.training
            )
        return gradient

    def potential(self, latent, context):
        """``psi(u; c)`` of shape (n, n_points) for ``u = latent`` (n, n_points, d)."""
        d = self.n_outputs
        context = context[:, None, :]
        lower = torch.zeros(
            *context.shape[:1], d, d, dtype=latent.dtype, device=latent.device
        )
        lower[:, self.tril_rows, self.tril_columns] = self.cholesky(context[:, 0])
        transformed = torch.einsum("nji,npj->npi", lower, latent)
        quadratic = 0.5 * (transformed**2).sum(-1) + 0.5 * MIN_CURVATURE * (
            latent**2
        ).sum(-1)
        linear = (self.location(context) * latent).sum(-1)

        z = None
        for k, (u_gate, u_layer, context_layer) in enumerate(
            zip(self.u_gates, self.u_layers, self.context_layers, strict=True)
        ):
            pre = u_layer(latent * u_gate(context)) + context_layer(context)
            if z is not None:
                gate = F.softplus(self.z_gates[k - 1](context))
                weight = F.softplus(self.z_weights[k - 1]) / weight_scale(z)
                pre = pre + (z * gate) @ weight.T
            z = F.softplus(pre)
        output_weight = F.softplus(self.output_weight)
        convex = (z * F.softplus(self.output_gate(context))) @ output_weight
        return linear + quadratic + convex


def weight_scale(z):
    # Averaging rather than summing over the previous layer keeps the size of
    # the convex path independent of its width.
    return z.shape[-1]


class WeightedEnergyScoreLoss(nn.Module):
    """Weighted mean energy score of model draws against observations.

    For draws ``w_1..w_N`` of one row and observation ``y`` the unbiased
    estimate is ``mean_k |w_k - y|^beta - sum_{j != k} |w_j - w_k|^beta /
    (2 N (N - 1))``. The target carries the observations in its first columns
    and the row weight in its last column.
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, draws, target):
        observed, weight = target[:, :-1], target[:, -1]
        n_draws = draws.shape[1]
        to_observation = _norm(draws - observed[:, None, :], self.beta).mean(1)
        pairwise = _norm(draws[:, :, None, :] - draws[:, None, :, :], self.beta)
        spread = pairwise.sum((1, 2)) / (2.0 * n_draws * (n_draws - 1))
        scores = to_observation - spread
        return (weight * scores).sum() / weight.sum()


def _norm(difference, beta):
    # The small floor keeps the gradient of the norm finite at zero distance
    # (the diagonal of the pairwise differences).
    squared = (difference**2).sum(-1).clamp_min(1e-12)
    return squared ** (0.5 * beta)
