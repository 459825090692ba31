"""ConvexQuantileRegressor: monotone map, query API, regions and errors."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from skquantile import ConvexQuantileRegressor
from skquantile._convex_network import (
    ConvexPotentialNetwork,
    antithetic_pairs,
    energy_row_scores,
)
from skquantile._training import float64_copy
from skquantile.datasets import make_heteroscedastic, make_two_targets

FAST = dict(
    max_epochs=5,
    hidden_layer_sizes=(16,),
    potential_layer_sizes=(8, 8),
    n_energy_samples=8,
    random_state=0,
)


@pytest.fixture(scope="module")
def univariate():
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    return ConvexQuantileRegressor(**FAST).fit(X, y), X, y


@pytest.fixture(scope="module")
def bivariate():
    X, Y, _ = make_two_targets(n_samples=300, random_state=0)
    return ConvexQuantileRegressor(**FAST).fit(X, Y), X, Y


def test_shapes_one_target(univariate):
    model, X, _ = univariate
    X = X[:7]
    assert model.n_outputs_ == 1
    assert model.predict(X).shape == (7,)
    assert model.predict_quantile(X, 0.3).shape == (7,)
    assert model.predict_quantile(X, [0.1, 0.5, 0.9]).shape == (7, 3)
    assert model.predict_marginal_quantile(X, [0.1, 0.9]).shape == (7, 2)
    assert model.predict_interval(X).shape == (7, 2)
    assert model.predict_cdf(X, np.zeros(7)).shape == (7,)
    assert model.sample(X, 11, random_state=0).shape == (7, 11)
    assert model.predict_region(X, coverage=0.8).shape == (7, 2)
    contains = model.region_contains(X, np.zeros(7))
    assert contains.shape == (7,) and contains.dtype == bool


def test_shapes_two_targets(bivariate):
    model, X, _ = bivariate
    X = X[:7]
    assert model.n_outputs_ == 2
    assert model.predict(X).shape == (7, 2)
    assert model.predict_quantile(X, [0.2, 0.7]).shape == (7, 2)
    assert model.predict_quantile(X, [[0.2, 0.7], [0.5, 0.5], [0.9, 0.1]]).shape == (
        7,
        3,
        2,
    )
    assert model.predict_marginal_quantile(X, 0.3).shape == (7, 2)
    assert model.predict_marginal_quantile(X, [0.1, 0.5, 0.9]).shape == (7, 2, 3)
    assert model.predict_interval(X, coverage=0.5).shape == (7, 2, 2)
    assert model.sample(X, 11, random_state=0).shape == (7, 11, 2)
    contour = model.predict_region(X, coverage=0.9, n_points=40)
    assert contour.shape == (7, 40, 2)
    np.testing.assert_allclose(contour[:, 0], contour[:, -1], rtol=1e-12)
    assert model.region_contains(X, np.zeros((7, 2))).shape == (7,)


def test_shapes_three_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(80, 2))
    Y = rng.normal(size=(80, 3)) + X[:, :1]
    model = ConvexQuantileRegressor(**FAST).fit(X, Y)
    assert model.predict(X[:4]).shape == (4, 3)
    assert model.predict_region(X[:4], n_points=25).shape == (4, 25, 3)
    assert model.sample(X[:4], 6, random_state=0).shape == (4, 6, 3)


def test_single_column_target_is_a_one_dimensional_vector(univariate):
    _, X, y = univariate
    model = ConvexQuantileRegressor(**FAST).fit(X, y[:, None])
    assert model.predict(X[:4]).shape == (4, 1)
    assert model.predict_quantile(X[:4], [0.2]).shape == (4, 1)
    assert model.predict_marginal_quantile(X[:4], [0.2, 0.8]).shape == (4, 1, 2)


def test_one_target_quantiles_are_monotone_and_the_cdf_inverts_them(univariate):
    model, X, _ = univariate
    levels = np.linspace(1e-6, 1 - 1e-6, 101)
    quantiles = model.predict_quantile(X, levels)
    assert (np.diff(quantiles, axis=1) > 0).all()
    for column in (0, 13, 50, 100):
        np.testing.assert_allclose(
            model.predict_cdf(X, quantiles[:, column]), levels[column], rtol=1e-7
        )
    np.testing.assert_array_equal(model.predict_marginal_quantile(X, levels), quantiles)


def test_one_target_region_is_the_central_interval(univariate):
    model, X, _ = univariate
    for coverage in (0.5, 0.9):
        np.testing.assert_allclose(
            model.predict_region(X, coverage=coverage),
            model.predict_quantile(X, [(1 - coverage) / 2, (1 + coverage) / 2]),
            rtol=1e-10,
        )


def test_median_is_the_image_of_the_latent_origin(bivariate):
    model, X, _ = bivariate
    np.testing.assert_allclose(
        model.predict(X), model.predict_quantile(X, [0.5, 0.5]), rtol=1e-12
    )


def test_sample_is_the_map_of_normal_draws(bivariate):
    model, X, _ = bivariate
    draws = model.sample(X[:3], 5, random_state=0)
    latent = np.random.RandomState(0).standard_normal((3, 5, 2))
    np.testing.assert_allclose(
        draws[1], model.predict_quantile(X[1:2], special.ndtr(latent[1]))[0]
    )
    np.testing.assert_array_equal(draws, model.sample(X[:3], 5, random_state=0))


def test_marginal_quantiles_agree_with_the_draws(bivariate):
    model, X, _ = bivariate
    marginal = model.predict_marginal_quantile(X[:4], [0.1, 0.5, 0.9])
    draws = model.sample(X[:4], 20000, random_state=1)
    below = (draws[..., None] <= marginal[:, None]).mean(1)
    # Binomial standard error at 20000 draws is at most 0.0035, and the
    # marginal estimate itself comes from 1000 draws (standard error <= 0.016).
    np.testing.assert_allclose(
        below, np.broadcast_to([0.1, 0.5, 0.9], below.shape), atol=0.05
    )
    interval = model.predict_interval(X[:4], coverage=0.8)
    np.testing.assert_allclose(interval, marginal[..., [0, 2]])


def _latent_boundary(coverage, n_points=32):
    angle = np.linspace(0.0, 2.0 * np.pi, n_points, endpoint=False)
    radius = np.sqrt(stats.chi2.ppf(coverage, 2))
    return radius * np.column_stack([np.cos(angle), np.sin(angle)])


def test_region_boundary_and_membership_agree(bivariate):
    model, X, _ = bivariate
    x = X[:5]
    for coverage in (0.5, 0.9):
        boundary = _latent_boundary(coverage)
        for shrink, inside in ((0.98, True), (1.02, False)):
            points = model.predict_quantile(x, special.ndtr(shrink * boundary))
            for k in range(points.shape[1]):
                np.testing.assert_array_equal(
                    model.region_contains(x, points[:, k], coverage=coverage), inside
                )


def test_regions_are_nested(bivariate):
    model, X, _ = bivariate
    x = np.repeat(X[:6], 60, axis=0)
    inner = model.predict_region(X[:6], coverage=0.5, n_points=60).reshape(-1, 2)
    assert model.region_contains(x, inner, coverage=0.9).all()
    outer = model.predict_region(X[:6], coverage=0.9, n_points=60).reshape(-1, 2)
    assert not model.region_contains(x, outer, coverage=0.5).any()
    points = model.sample(X[:6], 200, random_state=0).reshape(-1, 2)
    x = np.repeat(X[:6], 200, axis=0)
    small = model.region_contains(x, points, coverage=0.5)
    large = model.region_contains(x, points, coverage=0.9)
    assert (large | ~small).all()
    # The model's own draws fall in its regions at the nominal rate.
    assert abs(small.mean() - 0.5) < 0.05 and abs(large.mean() - 0.9) < 0.03


def test_learns_the_dependence_between_targets():
    """A trained model reproduces the correlation of two targets and the
    coverage of its regions.

    A statistical property of a well-trained model, so this test keeps a long
    fit (about 8 s): an ensemble of three networks. Over model seeds 0-3 it
    gives draws' correlations of 0.84 to 0.96 and region coverages of 0.90 to
    0.91; a single network fails these bounds on some seeds, and the default
    ensemble (five wider networks) is as accurate at twice the time.
    """
    rng = np.random.default_rng(0)
    n = 1500
    X = rng.uniform(-1, 1, size=(n, 2))
    covariance = np.array([[1.0, 0.9], [0.9, 1.0]])
    Y = X @ [[1.0, 0.0], [0.0, 2.0]] + rng.multivariate_normal([0, 0], covariance, n)
    model = ConvexQuantileRegressor(
        max_epochs=30, n_members=3, hidden_layer_sizes=(64, 64), random_state=0
    ).fit(X, Y)
    draws = model.sample(X[:20], 2000, random_state=0)
    correlation = [np.corrcoef(row.T)[0, 1] for row in draws]
    np.testing.assert_allclose(correlation, 0.9, atol=0.1)
    X_test = rng.uniform(-1, 1, size=(2000, 2))
    Y_test = X_test @ [[1.0, 0.0], [0.0, 2.0]] + rng.multivariate_normal(
        [0, 0], covariance, 2000
    )
    assert abs(model.region_contains(X_test, Y_test, coverage=0.9).mean() - 0.9) < 0.04


def test_one_target_defaults_are_calibrated():
    """The default estimator's intervals cover at the nominal rate.

    A statistical property of the defaults, so this test keeps the default
    fit (about 4 s).
    """
    X, y, _ = make_heteroscedastic(n_samples=2000, random_state=1)
    X_test, y_test, _ = make_heteroscedastic(n_samples=2000, random_state=2)
    model = ConvexQuantileRegressor(random_state=0).fit(X, y)
    interval = model.predict_interval(X_test, coverage=0.9)
    coverage = np.mean((interval[:, 0] <= y_test) & (y_test <= interval[:, 1]))
    assert abs(coverage - 0.9) < 0.03


def _randomise(module, rng, scale):
    """Overwrite every parameter of a copy of ``module`` with wild values."""
    module = float64_copy(module)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(
                torch.as_tensor(rng.normal(0.0, scale, size=parameter.shape))
            )
    return module


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 2**16),
    n_outputs=st.integers(1, 4),
    weight_scale=st.sampled_from([0.1, 1.0, 5.0]),
    feature_scale=st.sampled_from([1e-3, 1.0, 1e3]),
    tail=st.sampled_from([1e-6, 0.01, 0.3]),
)
def test_the_map_is_monotone_and_the_potential_convex_for_any_weights(
    seed, n_outputs, weight_scale, feature_scale, tail
):
    """Monotone by construction: hold for random (not only trained) weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    Y = rng.normal(size=(20, n_outputs))
    model = ConvexQuantileRegressor(
        max_epochs=1,
        hidden_layer_sizes=(8,),
        potential_layer_sizes=(8, 8, 8),
        n_energy_samples=4,
        random_state=seed,
    ).fit(X, Y)
    module = _randomise(model.net_.module_, rng, weight_scale)
    features = torch.as_tensor(rng.normal(size=(30, 3)) * feature_scale)
    with torch.no_grad():
        context = module.context(features)
    # Random pairs of level vectors, some deep in the tails.
    levels_a = rng.uniform(tail, 1 - tail, size=(30, 16, n_outputs))
    levels_b = rng.uniform(tail, 1 - tail, size=(30, 16, n_outputs))
    u_a = torch.as_tensor(special.ndtri(levels_a))
    u_b = torch.as_tensor(special.ndtri(levels_b))
    q_a = module.transport(u_a, context).detach()
    q_b = module.transport(u_b, context).detach()
    assert torch.isfinite(q_a).all()
    inner = ((q_a - q_b) * (u_a - u_b)).sum(-1)
    assert inner.min() >= -1e-6
    # Convexity of psi along the segments from u_a to u_b.
    t = torch.as_tensor(rng.uniform(size=(30, 16, 1)))
    with torch.no_grad():
        middle = module.potential(t * u_a + (1 - t) * u_b, context)
        chord = t[..., 0] * module.potential(u_a, context) + (
            1 - t[..., 0]
        ) * module.potential(u_b, context)
    assert (middle <= chord + 1e-9 * (1 + chord.abs())).all()


@pytest.mark.parametrize("n_members", [1, 3])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("shared", [False, True])
def test_the_map_is_the_gradient_of_the_potential(n_members, n_outputs, shared):
    """``transport`` writes the gradient out by hand; it must be autograd's
    gradient of ``potential``, and training through it must give the same
    parameter gradients as training through autograd's graph of a gradient."""
    rng = np.random.default_rng(n_members + 10 * n_outputs)
    module = ConvexPotentialNetwork(3, n_outputs, (8,), "silu", (6, 6, 6), 4, n_members)
    module = _randomise(module, rng, 0.7)
    features = torch.as_tensor(rng.normal(size=(9, 3)))
    members = () if shared or n_members == 1 else (n_members,)
    latent = torch.as_tensor(rng.normal(size=(*members, 9, 5, n_outputs)) * 2.0)
    latent.requires_grad_(True)
    context = module.context(features)
    (by_autograd,) = torch.autograd.grad(
        module.potential(latent, context).sum(), latent, create_graph=True
    )
    written_out = module.transport(latent, context)
    assert written_out.shape == latent.shape
    # Wild weights give large terms that partly cancel: the two computations
    # agree to rounding relative to the largest value.
    scale = by_autograd.abs().max().item()
    torch.testing.assert_close(written_out, by_autograd, rtol=0, atol=1e-11 * scale)
    weights = torch.as_tensor(rng.normal(size=latent.shape))
    parameters = list(module.parameters())
    expected = torch.autograd.grad(
        (by_autograd * weights).sum(), parameters, retain_graph=True
    )
    got = torch.autograd.grad((written_out * weights).sum(), parameters)
    for name, a, b in zip(dict(module.named_parameters()), got, expected, strict=True):
        scale = b.abs().max().item()
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11 * scale, msg=name)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n_members", [1, 3])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("shared", [False, True])
def test_the_map_without_autograd_works_in_place_to_the_same_numbers(
    dtype, n_members, n_outputs, shared
):
    """Without a graph (every prediction) the map works on its intermediate
    arrays in place; it must give exactly the numbers of the training path,
    and leave its inputs untouched."""
    rng = np.random.default_rng(n_members + 10 * n_outputs)
    module = ConvexPotentialNetwork(3, n_outputs, (8,), "silu", (6, 6, 6), 4, n_members)
    module = _randomise(module, rng, 0.7).to(dtype)
    features = torch.as_tensor(rng.normal(size=(9, 3)), dtype=dtype)
    members = () if shared or n_members == 1 else (n_members,)
    latent = torch.as_tensor(
        rng.normal(size=(*members, 9, 5, n_outputs)) * 2.0, dtype=dtype
    )
    original = latent.clone()
    with torch.no_grad():
        context = module.context(features)
        context_copy = context.clone()
        in_place = module.transport(latent, context)
        potential = module.potential(latent, context)
    with torch.enable_grad():
        recorded = module.transport(latent.clone().requires_grad_(True), context)
        recorded_potential = module.potential(latent.clone(), context)
    assert torch.equal(in_place, recorded.detach())
    assert torch.equal(potential, recorded_potential.detach())
    assert torch.equal(latent, original)
    assert torch.equal(context, context_copy)


@pytest.mark.parametrize("beta", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_energy_row_scores_match_the_formula_and_have_finite_gradients(beta, n_outputs):
    rng = np.random.default_rng(0)
    draws = torch.as_tensor(rng.normal(size=(2, 4, 7, n_outputs)))
    observed = rng.normal(size=(4, n_outputs))
    target = torch.as_tensor(np.column_stack([observed, np.ones(4)]))
    scores, _, _ = energy_row_scores(draws, target, beta, antithetic=False)
    w = draws.numpy()
    to_observation = np.linalg.norm(w - observed[:, None, :], axis=-1) ** beta
    pairs = np.linalg.norm(w[..., :, None, :] - w[..., None, :, :], axis=-1) ** beta
    expected = to_observation.mean(-1) - pairs.sum((-2, -1)) / (2 * 7 * 6)
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-10)
    # Antithetic draws: the last three of seven negate the first three, and
    # the pairs of partners (both orders) are left out of the spread.
    scores, _, _ = energy_row_scores(draws, target, beta)
    partners = np.linalg.norm(w[..., :3, :] - w[..., 4:, :], axis=-1) ** beta
    spread = (pairs.sum((-2, -1)) - 2 * partners.sum(-1)) / (2 * (7 * 6 - 6))
    np.testing.assert_allclose(
        scores.numpy(), to_observation.mean(-1) - spread, rtol=1e-10
    )
    # Zero distances (a draw and itself, two equal draws, a draw on the
    # observation) keep the gradient finite.
    draws[0, 0, 1] = draws[0, 0, 0]
    draws[1, 2, 3] = target[2, :n_outputs]
    draws.requires_grad_(True)
    energy_row_scores(draws, target, beta)[0].sum().backward()
    assert torch.isfinite(draws.grad).all()


def test_antithetic_latent_points_give_an_unbiased_and_less_noisy_score():
    """The training draws come in antithetic pairs (the last half of a row's
    latent points negate the first half); the score leaves the dependent
    pairs out of its spread term, so it estimates the same energy score as
    independent draws, with less Monte Carlo noise under a monotone map."""
    module = ConvexPotentialNetwork(2, 2, (8,), "silu", (8,), 9, n_members=3)
    module.train()
    context = torch.zeros(5, 8)
    latent = module._draw_latent(context, own_per_member=True)
    assert latent.shape == (3, 5, 9, 2)
    assert torch.equal(latent[..., 5:, :], -latent[..., :4, :])
    assert antithetic_pairs(9) == 4 and antithetic_pairs(2) == 0
    assert antithetic_pairs(3) == 1

    # A fixed monotone map of a standard normal vector (the gradient of a
    # convex function) and observations from the same law.
    def monotone_map(u):
        first = u[..., 0] + 0.3 * u[..., 0] ** 3
        return torch.stack([first, 0.5 * u[..., 0] + u[..., 1]], -1)

    generator = torch.Generator().manual_seed(0)
    n_rows, n_draws = 2000, 8
    observed = monotone_map(torch.randn(n_rows, 2, generator=generator))
    target = torch.cat([observed, torch.ones(n_rows, 1)], 1).double()
    independent = torch.randn(n_rows, n_draws, 2, generator=generator).double()
    half = torch.randn(n_rows, n_draws // 2, 2, generator=generator).double()
    paired = torch.cat([half, -half], 1)
    reference = torch.randn(n_rows, 64, 2, generator=generator).double()
    close = energy_row_scores(monotone_map(reference), target, antithetic=False)[0]
    plain = energy_row_scores(monotone_map(independent), target, antithetic=False)[0]
    antithetic = energy_row_scores(monotone_map(paired), target)[0]
    # Unbiased: the means over the rows agree within their standard errors.
    # Counting the partners' distances in the spread would not be.
    partners_counted = energy_row_scores(
        monotone_map(paired), target, antithetic=False
    )[0]
    for scores, unbiased in (
        (plain, True),
        (antithetic, True),
        (partners_counted, False),
    ):
        difference = scores - close
        error = difference.std() / n_rows**0.5
        assert (abs(difference.mean()) < 4 * error) == unbiased
    # Less noisy: the rows' squared deviations from the 64-draw score are
    # at least twice smaller with the pairs.
    assert ((antithetic - close) ** 2).mean() < 0.5 * ((plain - close) ** 2).mean()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), n_outputs=st.integers(2, 3))
def test_fitted_map_is_monotone_for_any_features(seed, n_outputs):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2))
    Y = rng.standard_t(3, size=(60, n_outputs)) * 10.0 ** rng.uniform(-3, 4)
    model = ConvexQuantileRegressor(**{**FAST, "random_state": seed}).fit(X, Y)
    x = rng.normal(size=(8, 2)) * 10.0 ** rng.uniform(-2, 3)
    a = rng.uniform(1e-6, 1 - 1e-6, size=(25, n_outputs))
    b = rng.uniform(1e-6, 1 - 1e-6, size=(25, n_outputs))
    q_a, q_b = model.predict_quantile(x, a), model.predict_quantile(x, b)
    inner = ((q_a - q_b) / model._y_scale * (special.ndtri(a) - special.ndtri(b))).sum(
        -1
    )
    assert inner.min() >= -1e-6
    # The inverse map finds the latent points back.
    recovered = model._inverse(model._validated_features(x), q_a[:, 0])
    np.testing.assert_allclose(
        recovered, np.broadcast_to(special.ndtri(a[0]), recovered.shape), atol=1e-6
    )


@pytest.mark.parametrize(
    "method, args, error, match",
    [
        ("predict_quantile", ([0.5],), ValueError, r"shape \(2,\)"),
        ("predict_quantile", ([[0.5, 0.5, 0.5]],), ValueError, r"shape \(2,\)"),
        ("predict_quantile", ([0.5, 1.0],), ValueError, "alpha must lie strictly"),
        ("predict_quantile", ([0.5, np.nan],), ValueError, "got nan"),
        ("predict_marginal_quantile", (0.0,), ValueError, "alpha must lie"),
        ("predict_marginal_quantile", (0.5, 0), ValueError, "n_samples"),
        ("predict_region", (1.0,), ValueError, "coverage must lie"),
        ("predict_region", (0.9, 0), ValueError, "n_points must be at least 1"),
        ("predict_region", (0.9, 2.5), TypeError, "n_points must be an integer"),
        ("region_contains", (np.zeros((5, 3)),), ValueError, r"shape \(5, 2\)"),
        ("region_contains", (np.full((5, 2), np.inf),), ValueError, "infinity"),
        ("region_contains", (np.zeros((5, 2)), 0.0), ValueError, "coverage"),
        ("predict_cdf", (np.zeros(5),), ValueError, "single target"),
        ("sample", (-1,), ValueError, "n_samples"),
    ],
)
def test_query_errors(bivariate, method, args, error, match):
    model, X, _ = bivariate
    with pytest.raises(error, match=match):
        getattr(model, method)(X[:5], *args)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"potential_layer_sizes": (8, 0)}, "potential_layer_sizes"),
        ({"potential_layer_sizes": ()}, "potential_layer_sizes"),
        ({"n_energy_samples": 1}, "n_energy_samples"),
        ({"beta": 2.0}, "beta"),
        ({"beta": 0.0}, "beta"),
    ],
)
def test_parameter_errors(params, match):
    X, y, _ = make_heteroscedastic(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match=match):
        ConvexQuantileRegressor(**params).fit(X, y)


def test_validation_draws_are_the_same_at_every_epoch(bivariate):
    # Early stopping compares epochs; in evaluation mode the energy score is
    # estimated on the same seeded draws each time, so two evaluations of the
    # same weights agree exactly and the global random state is not used.
    model, X, _ = bivariate
    module = model.net_.module_
    was_training = module.training
    features = torch.as_tensor(model._validated_features(X[:20]), dtype=torch.float32)
    module.eval()
    state = torch.get_rng_state()
    first, second = module(features), module(features)
    assert torch.equal(state, torch.get_rng_state())
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    module.train()
    try:
        assert not torch.equal(module(features), module(features))
    finally:
        module.train(was_training)


def test_a_column_target_is_a_joint_target_of_dimension_one():
    """A 2-d y of one column is a joint target of dimension 1: levels are
    vectors of one entry, and predict_cdf names the fix (a 1-d y)."""
    X, y, _ = make_heteroscedastic(n_samples=60, random_state=2)
    model = ConvexQuantileRegressor(
        hidden_layer_sizes=(8,), potential_layer_sizes=(8,), max_epochs=2
    ).fit(X, y[:, None])
    assert model.predict_quantile(X[:4], [0.3]).shape == (4, 1)
    with pytest.raises(ValueError, match=r"2-d y of one column.*y\.ravel\(\)"):
        model.predict_cdf(X[:4], y[:4, None])
