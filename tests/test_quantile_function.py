"""The piecewise-linear quantile function and its closed-form CRPS."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from skquantile._incremental_network import IncrementalQuantileNetwork
from skquantile._piecewise_linear import (
    PiecewiseLinearQuantileFunction,
    crps_closed_form,
)


def _random_function(rng, n_knots):
    levels = np.sort(rng.uniform(0.005, 0.995, n_knots))
    levels[1:] = np.maximum(levels[1:], levels[:-1] + 1e-3)
    values = np.cumsum(rng.exponential(1.0, n_knots)) - 2.0
    return PiecewiseLinearQuantileFunction(
        torch.tensor(levels),
        torch.tensor(values),
        torch.tensor(rng.uniform(0.05, 3.0)),
        torch.tensor(rng.uniform(0.05, 3.0)),
    )


def _numerical_crps(quantile_function, z):
    """Integral over (0, 1) of twice the pinball loss, by adaptive quadrature."""

    def integrand(a):
        q = quantile_function.quantile(torch.tensor([a], dtype=torch.float64)).item()
        return 2.0 * (z - q) * (a - (z < q))

    kinks = [*quantile_function.levels.numpy()]
    kinks.append(quantile_function.cdf(torch.tensor([z])).item())
    # A kink at exactly 0 or 1 (an observation far in a tail) would make quad
    # evaluate the quantile function at an infinite end.
    kinks = [kink for kink in kinks if 1e-12 < kink < 1.0 - 1e-12]
    value, _ = quad(integrand, 0.0, 1.0, points=kinks, limit=500, epsabs=1e-12)
    return value


@pytest.mark.parametrize("seed", range(12))
def test_crps_matches_numerical_integration(seed):
    rng = np.random.default_rng(seed)
    quantile_function = _random_function(rng, n_knots=rng.integers(2, 9))
    for z in [*rng.normal(0.0, 3.0, 4), -40.0, 40.0]:
        closed = crps_closed_form(quantile_function, torch.tensor(z)).item()
        assert closed == pytest.approx(_numerical_crps(quantile_function, z), abs=1e-6)


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_crps_of_network_output_matches_numerical_integration(n_pieces):
    torch.manual_seed(0)
    network = IncrementalQuantileNetwork(
        n_features=2,
        n_outputs=2,
        knot_levels=[0.1, 0.3, 0.5, 0.9],
        n_pieces=n_pieces,
        hidden_layer_sizes=(8,),
        activation="relu",
    ).double()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0.0, 1.0)
        output = network(torch.randn(3, 2, dtype=torch.float64))
        z = torch.randn(3, 2, dtype=torch.float64) * 2.0
        closed = crps_closed_form(output, z)
    for row in range(3):
        for column in range(2):
            single = PiecewiseLinearQuantileFunction(
                output.levels.expand_as(output.values)[row, column],
                output.values[row, column],
                output.left_scale[row, column],
                output.right_scale[row, column],
            )
            numerical = _numerical_crps(single, z[row, column].item())
            assert closed[row, column].item() == pytest.approx(numerical, abs=1e-6)


def test_crps_gradients_are_finite_far_in_the_tails():
    levels = torch.tensor([0.2, 0.5, 0.8])
    values = torch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    left = torch.tensor(0.5, requires_grad=True)
    right = torch.tensor(0.5, requires_grad=True)
    quantile_function = PiecewiseLinearQuantileFunction(levels, values, left, right)
    loss = crps_closed_form(quantile_function, torch.tensor([-1e4, 0.3, 1e4])).sum()
    loss.backward()
    for tensor in (values, left, right):
        assert torch.isfinite(tensor.grad).all()


def test_crps_is_minimised_by_the_truth():
    # For a sample from the modelled law, the expected score is lower for the
    # generating quantile function than for a shifted or rescaled one.
    rng = np.random.default_rng(0)
    quantile_function = _random_function(rng, n_knots=5)
    uniform = torch.tensor(rng.uniform(size=20000))
    sample = quantile_function.quantile(uniform)
    best = crps_closed_form(quantile_function, sample).mean()
    for shift, stretch in [(0.3, 1.0), (-0.3, 1.0), (0.0, 1.3), (0.0, 0.7)]:
        other = quantile_function._replace(
            values=quantile_function.values * stretch + shift,
            left_scale=quantile_function.left_scale * stretch,
            right_scale=quantile_function.right_scale * stretch,
        )
        assert crps_closed_form(other, sample).mean() > best


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    alpha=st.lists(st.floats(1e-6, 1 - 1e-6, allow_nan=False), min_size=1, max_size=20),
)
def test_quantile_is_monotone_and_cdf_inverts_it(seed, alpha):
    rng = np.random.default_rng(seed)
    quantile_function = _random_function(rng, n_knots=rng.integers(2, 12))
    alpha = torch.tensor(sorted(alpha), dtype=torch.float64)
    quantiles = quantile_function.quantile(alpha)
    assert torch.isfinite(quantiles).all()
    assert (torch.diff(quantiles) >= 0).all()
    np.testing.assert_allclose(
        quantile_function.cdf(quantiles).numpy(), alpha.numpy(), rtol=1e-9, atol=1e-12
    )


def test_quantile_limits_are_infinite_and_cdf_saturates():
    quantile_function = _random_function(np.random.default_rng(1), n_knots=4)
    ends = quantile_function.quantile(torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert ends[0].item() == -np.inf and ends[1].item() == np.inf
    cdf = quantile_function.cdf(torch.tensor([-1e6, 1e6], dtype=torch.float64))
    assert cdf.tolist() == [0.0, 1.0]


def test_cdf_of_values_equal_to_float64_resolution_is_finite():
    # Far outside the training data the knot increments vanish next to the
    # values and consecutive values become equal: the CDF there is a level
    # of the tie, never 0/0.
    levels = torch.tensor([0.1, 0.4, 0.6, 0.9], dtype=torch.float64)
    values = torch.tensor([1e15, 1e15, 1e15, 1e15 + 0.5], dtype=torch.float64)
    scale = torch.tensor(1e-3, dtype=torch.float64)
    tied = PiecewiseLinearQuantileFunction(levels, values, scale, scale)
    z = torch.tensor([1e15 - 1.0, 1e15, 1e15 + 0.25, 1e15 + 1.0], dtype=torch.float64)
    cdf = tied.cdf(z)
    assert torch.isfinite(cdf).all() and (torch.diff(cdf) >= 0).all()
    assert cdf[0] == 0.0 and 0.1 <= cdf[1] <= 0.6 and cdf[3] == 1.0
    assert 0.6 < cdf[2] < 0.9


@pytest.mark.parametrize("seed", range(4))
def test_shared_levels_fast_path_matches_the_general_one(seed):
    rng = np.random.default_rng(seed)
    levels = np.sort(rng.uniform(0.01, 0.99, 9))
    values = torch.tensor(np.cumsum(rng.exponential(1.0, (5, 3, 9)), axis=-1))
    batch = PiecewiseLinearQuantileFunction(
        torch.tensor(levels),
        values,
        torch.tensor(rng.uniform(0.05, 3.0, (5, 3))),
        torch.tensor(rng.uniform(0.05, 3.0, (5, 3))),
    )
    # Levels in both tails, on the knots, between them, unsorted.
    alpha = np.r_[1e-9, levels[0] / 2, levels, rng.uniform(size=20), 1 - 1e-9]
    alpha = torch.tensor(rng.permutation(alpha))
    fast = batch.quantile_at_shared_levels(alpha)
    general = batch.quantile(alpha.expand(5, 3, len(alpha)))
    assert torch.equal(fast, general)
    with pytest.raises(ValueError, match="1-d levels"):
        batch.quantile_at_shared_levels(alpha[None])


def test_a_run_of_equal_levels_gives_its_first_value_at_its_level():
    # Pooling can leave segments of zero width (equal levels); a level equal
    # to the first of them must give the first value, not 0/0.
    function = PiecewiseLinearQuantileFunction(
        torch.tensor([[0.2, 0.2, 0.5, 0.8]], dtype=torch.float64),
        torch.tensor([[-1.0, -0.5, 0.0, 1.0]], dtype=torch.float64),
        torch.tensor([0.3], dtype=torch.float64),
        torch.tensor([0.3], dtype=torch.float64),
    )
    got = function.quantile(torch.tensor([[0.2, 0.35, 0.5]], dtype=torch.float64))
    torch.testing.assert_close(
        got, torch.tensor([[-1.0, -0.25, 0.0]], dtype=torch.float64)
    )
