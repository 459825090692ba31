"""Tests of the synthetic data generators and of their ``truth`` objects."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from skquantile.datasets import (
    make_correlated_horizons,
    make_heavy_tailed,
    make_heteroscedastic,
    make_three_peaks,
    make_two_targets,
)

# %% Shared set-up

GENERATORS = {
    "heteroscedastic": make_heteroscedastic,
    "three_peaks": make_three_peaks,
    "heavy_tailed": make_heavy_tailed,
}
DEFAULT_N_FEATURES = {"heteroscedastic": 4, "three_peaks": 2, "heavy_tailed": 4}

generators = pytest.mark.parametrize(
    "make", list(GENERATORS.values()), ids=list(GENERATORS)
)
named_generators = pytest.mark.parametrize("name", list(GENERATORS))

LEVELS = np.array([0.01, 0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 0.99])
EXTREME_LEVELS = np.array([1e-6, 1e-4, 0.001, 0.3, 0.5, 0.7, 0.999, 1 - 1e-6])

# One truth per generator, for the property-based tests (no fixtures there).
TRUTHS = {
    name: make(n_samples=3, random_state=0)[2] for name, make in GENERATORS.items()
}


def _rows(make, n_samples=6, random_state=123, **kwargs):
    """A few feature rows drawn by the generator itself, and its truth."""
    X, _, truth = make(n_samples=n_samples, random_state=random_state, **kwargs)
    return X, truth


# %% Shapes, determinism and arguments of the generators


@generators
@pytest.mark.parametrize("n_samples", [1, 2, 37])
def test_shapes_and_dtypes(make, n_samples):
    X, y, truth = make(n_samples=n_samples, random_state=0)
    n_features = truth.n_features
    assert X.shape == (n_samples, n_features)
    assert y.shape == (n_samples,)
    assert X.dtype == np.float64
    assert y.dtype == np.float64
    assert np.isfinite(X).all()
    assert np.isfinite(y).all()
    # The features are uniform on [-1, 1].
    assert (X >= -1.0).all()
    assert (X <= 1.0).all()


@named_generators
def test_default_n_features(name):
    X, _, truth = GENERATORS[name](n_samples=5, random_state=0)
    assert X.shape[1] == DEFAULT_N_FEATURES[name]
    assert truth.n_features == DEFAULT_N_FEATURES[name]


def test_default_n_samples():
    for make in GENERATORS.values():
        X, y, _ = make(random_state=0)
        assert X.shape[0] == 1000
        assert y.shape == (1000,)


@generators
@pytest.mark.parametrize("n_features", [2, 3, 7])
def test_n_features(make, n_features):
    X, y, truth = make(n_samples=11, n_features=n_features, random_state=0)
    assert X.shape == (11, n_features)
    assert y.shape == (11,)
    assert truth.n_features == n_features
    assert truth.predict_quantile(X, [0.1, 0.9]).shape == (11, 2)
    assert truth.sample(X, 3, random_state=0).shape == (11, 3)
    # The truth is defined on exactly ``n_features`` features.
    with pytest.raises(ValueError, match=f"defined on {n_features} features"):
        truth.predict(np.zeros((2, n_features + 1)))


@generators
def test_features_after_the_first_two_are_noise(make):
    X, truth = _rows(make, n_features=5)
    rng = np.random.default_rng(0)
    other = X.copy()
    other[:, 2:] = rng.uniform(-1.0, 1.0, size=(len(X), 3))
    assert_array_equal(
        truth.predict_quantile(X, LEVELS), truth.predict_quantile(other, LEVELS)
    )
    y = truth.predict(X) + 0.1
    assert_array_equal(truth.predict_cdf(X, y), truth.predict_cdf(other, y))


@generators
def test_same_seed_gives_identical_data(make):
    X1, y1, truth1 = make(n_samples=50, random_state=7)
    X2, y2, truth2 = make(n_samples=50, random_state=7)
    assert_array_equal(X1, X2)
    assert_array_equal(y1, y2)
    assert_array_equal(
        truth1.predict_quantile(X1, LEVELS), truth2.predict_quantile(X2, LEVELS)
    )
    # A RandomState seeded alike gives the same data as the integer seed.
    X3, y3, _ = make(n_samples=50, random_state=np.random.RandomState(7))
    assert_array_equal(X1, X3)
    assert_array_equal(y1, y3)


@generators
def test_different_seeds_give_different_data(make):
    X1, y1, _ = make(n_samples=50, random_state=0)
    X2, y2, _ = make(n_samples=50, random_state=1)
    assert not np.array_equal(X1, X2)
    assert not np.array_equal(y1, y2)


@generators
def test_truth_sample_determinism(make):
    X, truth = _rows(make)
    draws = truth.sample(X, 100, random_state=3)
    assert draws.shape == (len(X), 100)
    assert draws.dtype == np.float64
    assert np.isfinite(draws).all()
    assert_array_equal(draws, truth.sample(X, 100, random_state=3))
    assert not np.array_equal(draws, truth.sample(X, 100, random_state=4))
    assert truth.sample(X, random_state=0).shape == (len(X), 1)


@generators
@pytest.mark.parametrize("n_features", [1, 0, -2])
def test_too_few_features(make, n_features):
    with pytest.raises(
        ValueError, match="'n_features' parameter .* range \\[2, inf\\)"
    ):
        make(n_samples=10, n_features=n_features, random_state=0)


@generators
@pytest.mark.parametrize("n_samples", [0, -1])
def test_too_few_samples(make, n_samples):
    with pytest.raises(ValueError, match="'n_samples' parameter .* range \\[1, inf\\)"):
        make(n_samples=n_samples, random_state=0)


@pytest.mark.parametrize("df", [0, 0.0, -1.0, -np.inf, np.nan])
def test_heavy_tailed_bad_df(df):
    with pytest.raises(ValueError, match="'df' parameter|df must be a positive"):
        make_heavy_tailed(n_samples=10, df=df, random_state=0)


@pytest.mark.parametrize("df", [0.5, 1.0, 1.5, 3.0, 30.0])
def test_heavy_tailed_positive_df(df):
    X, y, truth = make_heavy_tailed(n_samples=20, df=df, random_state=0)
    assert np.isfinite(y).all()
    assert_allclose(truth.predict_cdf(X, truth.predict_quantile(X, 0.8)), 0.8)


def test_heavy_tailed_infinite_df():
    # ``df`` is documented as "positive" and ``np.inf`` passes the check, so
    # the generator must either reject it or return usable (finite) data; the
    # Student-t law with infinite degrees of freedom is the standard normal.
    try:
        X, y, truth = make_heavy_tailed(n_samples=20, df=np.inf, random_state=0)
    except ValueError:
        return
    assert np.isfinite(y).all(), "make_heavy_tailed(df=inf) returned NaN targets"
    assert np.isfinite(truth.sample(X, 5, random_state=0)).all()


def test_smaller_df_gives_heavier_tails():
    X, _ = _rows(make_heavy_tailed)
    q_heavy = make_heavy_tailed(n_samples=1, df=1.5)[2].predict_quantile(X, 0.99)
    q_light = make_heavy_tailed(n_samples=1, df=30.0)[2].predict_quantile(X, 0.99)
    median = make_heavy_tailed(n_samples=1, df=1.5)[2].predict(X)
    assert (q_heavy - median > q_light - median).all()


# %% The truth matches the documented formulas


def test_heteroscedastic_formula():
    X, truth = _rows(make_heteroscedastic, n_samples=20)
    x0, x1 = X[:, 0], X[:, 1]
    location = np.sin(np.pi * x0) + 0.5 * x1
    scale = 0.1 + 0.4 * (x0 + 1) / 2 + 0.2 * np.abs(x1)
    expected = location[:, None] + scale[:, None] * stats.norm.ppf(LEVELS)
    assert_allclose(truth.predict_quantile(X, LEVELS), expected, rtol=1e-12, atol=1e-12)
    assert_allclose(truth.predict(X), location, rtol=1e-12, atol=1e-12)


def test_three_peaks_formula():
    X, truth = _rows(make_three_peaks, n_samples=20)
    center, separation = X[:, 0], 1.5 + 0.5 * X[:, 1]
    y = center + np.linspace(-2.5, 2.5, len(X))
    expected = sum(
        weight * stats.norm.cdf(y, loc=center + shift * separation, scale=0.3)
        for weight, shift in [(0.3, -1.0), (0.4, 0.0), (0.3, 1.0)]
    )
    assert_allclose(truth.predict_cdf(X, y), expected, rtol=1e-12, atol=1e-14)
    # The mixture is symmetric about its middle peak.
    assert_allclose(truth.predict(X), center, atol=1e-12)


@pytest.mark.parametrize("df", [1.5, 3.0, 10.0])
def test_heavy_tailed_formula(df):
    X, truth = _rows(make_heavy_tailed, n_samples=20, df=df)
    x0, x1 = X[:, 0], X[:, 1]
    location = x0 + np.cos(np.pi * x1)
    scale = 0.2 + 0.3 * np.abs(x0)
    expected = location[:, None] + scale[:, None] * stats.t.ppf(LEVELS, df)
    assert_allclose(truth.predict_quantile(X, LEVELS), expected, rtol=1e-12, atol=1e-12)


# %% The truth is a coherent conditional distribution


@generators
def test_empirical_quantiles_of_draws_match(make):
    X, truth = _rows(make, n_samples=4)
    n_draws = 20000
    draws = truth.sample(X, n_draws, random_state=0)
    assert draws.shape == (len(X), n_draws)
    quantiles = truth.predict_quantile(X, LEVELS)
    # Share of the draws at or below each predicted quantile: a binomial
    # proportion with mean ``level`` and standard error sqrt(a (1 - a) / n).
    share = (draws[:, :, None] <= quantiles[:, None, :]).mean(axis=1)
    standard_error = np.sqrt(LEVELS * (1 - LEVELS) / n_draws)
    z = (share - LEVELS) / standard_error
    assert np.abs(z).max() < 4, z


@generators
def test_empirical_cdf_of_draws_match(make):
    X, truth = _rows(make, n_samples=4)
    n_draws = 20000
    draws = truth.sample(X, n_draws, random_state=1)
    # Evaluate the distribution function at a few points around the median.
    points = truth.predict(X)[:, None] + np.array([-1.0, -0.3, 0.0, 0.3, 1.0])
    for j in range(points.shape[1]):
        cdf = truth.predict_cdf(X, points[:, j])
        share = (draws <= points[:, [j]]).mean(axis=1)
        standard_error = np.sqrt(np.maximum(cdf * (1 - cdf), 1e-12) / n_draws)
        assert (np.abs(share - cdf) < 4 * standard_error + 1e-12).all()


@generators
def test_cdf_inverts_quantile(make):
    X, truth = _rows(make, n_samples=10)
    for level in EXTREME_LEVELS:
        quantile = truth.predict_quantile(X, level)
        assert quantile.shape == (len(X),)
        assert_allclose(truth.predict_cdf(X, quantile), level, rtol=0, atol=1e-8)
    quantiles = truth.predict_quantile(X, EXTREME_LEVELS)
    for j, level in enumerate(EXTREME_LEVELS):
        cdf = truth.predict_cdf(X, quantiles[:, j])
        assert_allclose(cdf, level, rtol=0, atol=1e-8)


@generators
def test_quantiles_are_non_decreasing_in_the_level(make):
    X, truth = _rows(make, n_samples=10)
    levels = np.linspace(1e-5, 1 - 1e-5, 501)
    quantiles = truth.predict_quantile(X, levels)
    assert quantiles.shape == (len(X), len(levels))
    assert np.isfinite(quantiles).all()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    # And the distribution function is non-decreasing in the target.
    grid = np.linspace(-6.0, 6.0, 301)
    cdf = np.stack([truth.predict_cdf(X, np.full(len(X), y)) for y in grid], axis=1)
    assert ((cdf >= 0) & (cdf <= 1)).all()
    assert (np.diff(cdf, axis=1) >= 0).all()


@generators
def test_predict_is_the_median(make):
    X, truth = _rows(make, n_samples=10)
    median = truth.predict(X)
    assert median.shape == (len(X),)
    assert_array_equal(median, truth.predict_quantile(X, 0.5))
    assert_allclose(truth.predict_cdf(X, median), 0.5, atol=1e-8)


@generators
def test_predict_quantile_shapes(make):
    X, truth = _rows(make, n_samples=5)
    assert truth.predict_quantile(X, 0.3).shape == (5,)
    assert truth.predict_quantile(X, np.float32(0.3)).shape == (5,)
    assert truth.predict_quantile(X, [0.3]).shape == (5, 1)
    assert truth.predict_quantile(X, (0.1, 0.3, 0.9)).shape == (5, 3)
    # The same level gives the same quantile whichever way it is asked.
    together = truth.predict_quantile(X, LEVELS)
    for j, level in enumerate(LEVELS):
        assert_allclose(truth.predict_quantile(X, level), together[:, j], rtol=1e-14)
    # Unsorted and repeated levels are answered column by column.
    shuffled = truth.predict_quantile(X, [0.9, 0.1, 0.9])
    assert_allclose(shuffled[:, 0], shuffled[:, 2])
    assert (shuffled[:, 0] > shuffled[:, 1]).all()


@generators
def test_truth_works_on_new_features(make):
    # The truth answers for any rows, not only the generated ones.
    X, _, truth = make(n_samples=3, random_state=0)
    X_new, _, _ = make(n_samples=8, random_state=99)
    assert truth.predict_quantile(X_new, LEVELS).shape == (8, len(LEVELS))
    assert truth.predict_cdf(X_new, np.zeros(8)).shape == (8,)
    assert truth.sample(X_new.tolist(), 2, random_state=0).shape == (8, 2)


@generators
def test_generated_targets_follow_the_truth(make):
    X, y, truth = make(n_samples=5000, random_state=0)
    pit = truth.predict_cdf(X, y)
    assert pit.shape == (5000,)
    assert ((pit >= 0) & (pit <= 1)).all()
    assert stats.kstest(pit, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("df", [1.0, 10.0])
def test_heavy_tailed_targets_follow_the_truth(df):
    X, y, truth = make_heavy_tailed(n_samples=5000, df=df, random_state=1)
    assert stats.kstest(truth.predict_cdf(X, y), "uniform").pvalue > 1e-3


@generators
def test_truth_sample_follows_the_truth(make):
    # Draws of one fixed row, pushed through the row's distribution function.
    X, truth = _rows(make, n_samples=1)
    draws = truth.sample(X, 5000, random_state=2)[0]
    pit = truth.predict_cdf(np.repeat(X, len(draws), axis=0), draws)
    assert stats.kstest(pit, "uniform").pvalue > 1e-3


@generators
def test_truth_is_a_distribution_for_any_features(make):
    # The module promises that the truth answers "for any features (not only
    # the generated ones)": outside [-1, 1] it must still be a distribution,
    # with increasing quantiles and a distribution function that inverts them.
    _, truth = _rows(make, n_samples=1)
    rows = np.array([[-2.0, 0.0], [-3.0, 0.5], [4.0, -4.0], [10.0, 10.0]])
    X = np.zeros((len(rows), truth.n_features))
    X[:, :2] = rows
    quantiles = truth.predict_quantile(X, [0.1, 0.5, 0.9])
    assert np.isfinite(quantiles).all()
    assert (quantiles[:, 0] < quantiles[:, 1]).all(), quantiles
    assert (quantiles[:, 1] < quantiles[:, 2]).all(), quantiles
    for j, level in enumerate([0.1, 0.5, 0.9]):
        assert_allclose(truth.predict_cdf(X, quantiles[:, j]), level, atol=1e-8)


# %% Input validation of the truth methods


@generators
def test_wrong_number_of_features(make):
    X, truth = _rows(make)
    n_features = truth.n_features
    for wrong in (X[:, :-1], np.hstack([X, X[:, :1]])):
        message = f"X has {wrong.shape[1]} features, but this distribution"
        with pytest.raises(ValueError, match=message):
            truth.predict_quantile(wrong, 0.5)
        with pytest.raises(ValueError, match=message):
            truth.predict(wrong)
        with pytest.raises(ValueError, match=message):
            truth.predict_cdf(wrong, np.zeros(len(wrong)))
        with pytest.raises(ValueError, match=message):
            truth.sample(wrong, 2, random_state=0)
    with pytest.raises(ValueError, match="Expected 2D array"):
        truth.predict_quantile(np.zeros(n_features), 0.5)


@generators
def test_non_finite_features(make):
    X, truth = _rows(make)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        truth.predict_quantile(X, 0.5)
    with pytest.raises(ValueError, match="NaN"):
        truth.sample(X, 2)


@generators
@pytest.mark.parametrize(
    "alpha, match",
    [
        (0, r"strictly inside \(0, 1\)"),
        (1, r"strictly inside \(0, 1\)"),
        (0.0, r"strictly inside \(0, 1\)"),
        (1.0, r"strictly inside \(0, 1\)"),
        (-0.1, r"strictly inside \(0, 1\)"),
        (1.5, r"strictly inside \(0, 1\)"),
        (np.nan, r"strictly inside \(0, 1\)"),
        ([0.2, np.nan], r"strictly inside \(0, 1\)"),
        ([0.2, 1.0], r"strictly inside \(0, 1\)"),
        (np.inf, r"strictly inside \(0, 1\)"),
        ("0.5", "must be a number"),
        (["0.1", "0.9"], "must be a number"),
        (True, "must be a number"),
        (None, "must be a number"),
        ([[0.1, 0.9]], "1-d array"),
        ([], "at least one level"),
    ],
)
def test_bad_levels(make, alpha, match):
    X, truth = _rows(make)
    with pytest.raises(ValueError, match=match):
        truth.predict_quantile(X, alpha)


@generators
def test_bad_y(make):
    X, truth = _rows(make)
    n = len(X)
    with pytest.raises(ValueError, match=rf"y must have shape \({n},\)"):
        truth.predict_cdf(X, np.zeros(n + 1))
    with pytest.raises(ValueError, match=rf"y must have shape \({n},\)"):
        truth.predict_cdf(X, np.zeros(n - 1))
    with pytest.raises(ValueError, match=rf"y must have shape \({n},\)"):
        truth.predict_cdf(X, np.zeros((n, 1)))
    with pytest.raises(ValueError, match="NaN"):
        truth.predict_cdf(X, np.full(n, np.nan))
    with pytest.raises(ValueError, match="could not convert|Unable to convert"):
        truth.predict_cdf(X, ["a"] * n)
    with pytest.raises((ValueError, TypeError), match="dimension"):
        truth.predict_cdf(X, 0.0)


@generators
@pytest.mark.parametrize(
    "n_samples, error, match",
    [
        (0, ValueError, "n_samples must be at least 1"),
        (-3, ValueError, "n_samples must be at least 1"),
        (np.int64(0), ValueError, "n_samples must be at least 1"),
        (2.0, TypeError, "n_samples must be an integer"),
        (True, TypeError, "n_samples must be an integer"),
        ("3", TypeError, "n_samples must be an integer"),
        (None, TypeError, "n_samples must be an integer"),
    ],
)
def test_bad_n_samples(make, n_samples, error, match):
    X, truth = _rows(make)
    with pytest.raises(error, match=match):
        truth.sample(X, n_samples, random_state=0)


@generators
def test_numpy_integer_n_samples(make):
    X, truth = _rows(make)
    assert truth.sample(X, np.int32(4), random_state=0).shape == (len(X), 4)


# %% Pickling


@generators
def test_truth_pickles(make):
    X, truth = _rows(make)
    clone = pickle.loads(pickle.dumps(truth))
    assert clone.n_features == truth.n_features
    assert_array_equal(
        clone.predict_quantile(X, LEVELS), truth.predict_quantile(X, LEVELS)
    )
    y = truth.predict(X) + 0.2
    assert_array_equal(clone.predict_cdf(X, y), truth.predict_cdf(X, y))
    assert_array_equal(
        clone.sample(X, 10, random_state=0), truth.sample(X, 10, random_state=0)
    )


# %% Properties over random rows and levels


@st.composite
def rows_and_levels(draw):
    name = draw(st.sampled_from(sorted(TRUTHS)))
    n_features = TRUTHS[name].n_features
    n_rows = draw(st.integers(1, 4))
    X = draw(
        arrays(
            np.float64,
            (n_rows, n_features),
            elements=st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False),
        )
    )
    levels = draw(
        st.lists(
            st.floats(1e-6, 1 - 1e-6, allow_nan=False, allow_infinity=False),
            min_size=1,
            max_size=6,
        )
    )
    return name, X, np.sort(np.array(levels))


@settings(max_examples=150, deadline=None)
@given(rows_and_levels())
def test_property_monotone_and_inverted_by_cdf(case):
    name, X, levels = case
    truth = TRUTHS[name]
    quantiles = truth.predict_quantile(X, levels)
    assert quantiles.shape == (len(X), len(levels))
    assert np.isfinite(quantiles).all()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    for j, level in enumerate(levels):
        cdf = truth.predict_cdf(X, quantiles[:, j])
        assert_allclose(cdf, level, rtol=0, atol=1e-8)


# %% Multivariate generators: correlated horizons and two targets

MULTIVARIATE = {
    "correlated_horizons": make_correlated_horizons,
    "two_targets": make_two_targets,
}
multivariate = pytest.mark.parametrize(
    "make", list(MULTIVARIATE.values()), ids=list(MULTIVARIATE)
)
DEFAULT_SHAPES = {"correlated_horizons": (4, 6), "two_targets": (2, 2)}


def _standardised_draws(truth, X, n_draws, random_state):
    """Draws of each row centred and scaled by the true mean and spread."""
    draws = truth.sample(X, n_draws, random_state=random_state)
    spread = np.sqrt(np.diagonal(truth.covariance(X), axis1=1, axis2=2))
    return (draws - truth.predict(X)[:, None, :]) / spread[:, None, :]


def _empirical_correlation(standardised):
    """Correlation matrix of the draws of each row, shape (n, d, d)."""
    return np.stack([np.corrcoef(row, rowvar=False) for row in standardised])


@pytest.mark.parametrize("name", list(MULTIVARIATE))
@pytest.mark.parametrize("n_samples", [1, 37])
def test_multivariate_shapes_and_defaults(name, n_samples):
    X, Y, truth = MULTIVARIATE[name](n_samples=n_samples, random_state=0)
    n_features, n_outputs = DEFAULT_SHAPES[name]
    assert X.shape == (n_samples, n_features)
    assert Y.shape == (n_samples, n_outputs)
    assert X.dtype == Y.dtype == np.float64
    assert np.isfinite(Y).all()
    assert ((X >= -1.0) & (X <= 1.0)).all()
    assert (truth.n_features, truth.n_outputs) == (n_features, n_outputs)
    assert truth.predict(X).shape == (n_samples, n_outputs)
    assert truth.predict_marginal_quantile(X, 0.3).shape == (n_samples, n_outputs)
    assert truth.predict_marginal_quantile(X, [0.3]).shape == (n_samples, n_outputs, 1)
    assert truth.predict_marginal_quantile(X, LEVELS).shape == (
        n_samples,
        n_outputs,
        len(LEVELS),
    )
    assert truth.sample(X, 3, random_state=0).shape == (n_samples, 3, n_outputs)
    assert truth.sample(X, random_state=0).shape == (n_samples, 1, n_outputs)
    assert truth.covariance(X).shape == (n_samples, n_outputs, n_outputs)
    contains = truth.region_contains(X, Y, 0.9)
    assert contains.shape == (n_samples,)
    assert contains.dtype == bool
    assert make_correlated_horizons(random_state=0)[1].shape == (1000, 6)


@pytest.mark.parametrize("n_horizons", [1, 2, 9])
@pytest.mark.parametrize("n_features", [2, 5])
def test_correlated_horizons_sizes(n_horizons, n_features):
    X, Y, truth = make_correlated_horizons(
        n_samples=7, n_horizons=n_horizons, n_features=n_features, random_state=0
    )
    assert X.shape == (7, n_features)
    assert Y.shape == (7, n_horizons)
    assert truth.correlation_.shape == (n_horizons, n_horizons)
    assert truth.sample(X, 4, random_state=0).shape == (7, 4, n_horizons)
    with pytest.raises(ValueError, match=f"defined on {n_features} features"):
        truth.predict(np.zeros((2, n_features + 1)))


@multivariate
def test_multivariate_determinism(make):
    X1, Y1, truth1 = make(n_samples=40, random_state=7)
    X2, Y2, truth2 = make(n_samples=40, random_state=7)
    X3, Y3, _ = make(n_samples=40, random_state=np.random.RandomState(7))
    for first, second in [(X1, X2), (Y1, Y2), (X1, X3), (Y1, Y3)]:
        assert_array_equal(first, second)
    assert not np.array_equal(Y1, make(n_samples=40, random_state=8)[1])
    draws = truth1.sample(X1, 20, random_state=3)
    assert_array_equal(draws, truth2.sample(X1, 20, random_state=3))
    assert not np.array_equal(draws, truth1.sample(X1, 20, random_state=4))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_horizons": 0}, "'n_horizons' parameter"),
        ({"n_horizons": 2.0}, "'n_horizons' parameter"),
        ({"correlation": 1.0}, "'correlation' parameter"),
        ({"correlation": -1.0}, "'correlation' parameter"),
        ({"correlation": np.nan}, "'correlation' parameter"),
        ({"correlation": "0.5"}, "'correlation' parameter"),
        ({"n_features": 1}, "'n_features' parameter"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_correlated_horizons_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_correlated_horizons(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_features": 1}, "'n_features' parameter"),
        ({"n_samples": 0}, "'n_samples' parameter"),
    ],
)
def test_two_targets_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_two_targets(**kwargs)


@pytest.mark.parametrize("n_horizons", [1, 6])
def test_correlated_horizons_formula(n_horizons):
    X, _, truth = make_correlated_horizons(
        n_samples=20, n_horizons=n_horizons, correlation=0.7, random_state=1
    )
    x0, x1 = X[:, :1], X[:, 1:2]
    h = np.arange(1, n_horizons + 1)
    mean = np.sin(np.pi * x0) + 0.5 * x1 + 0.3 * x0 * h / n_horizons
    std = (0.2 + 0.3 * np.abs(x0)) * (1 + 0.5 * (h - 1) / n_horizons)
    correlation = 0.7 ** np.abs(h[:, None] - h[None, :])
    assert_allclose(truth.predict(X), mean, rtol=1e-12)
    assert_allclose(truth.correlation_, correlation, rtol=1e-12)
    assert_allclose(
        truth.covariance(X), std[:, :, None] * correlation * std[:, None, :]
    )
    assert_allclose(
        truth.predict_marginal_quantile(X, LEVELS),
        mean[:, :, None] + std[:, :, None] * stats.norm.ppf(LEVELS),
        rtol=1e-12,
        atol=1e-12,
    )


def test_two_targets_formula():
    X, _, truth = make_two_targets(n_samples=20, random_state=1)
    x0, x1 = X[:, 0], X[:, 1]
    mean = np.column_stack([np.sin(np.pi * x0) + 0.5 * x1, np.cos(np.pi * x1) - x0])
    std = np.column_stack([0.2 + 0.3 * np.abs(x0), 0.2 + 0.3 * np.abs(x1)])
    covariance = truth.covariance(X)
    assert_allclose(truth.predict(X), mean, rtol=1e-12)
    assert_allclose(np.diagonal(covariance, axis1=1, axis2=2), std**2, rtol=1e-12)
    assert_allclose(
        covariance[:, 0, 1] / (std[:, 0] * std[:, 1]), 0.8 * np.tanh(2 * x1)
    )
    assert_array_equal(covariance[:, 0, 1], covariance[:, 1, 0])
    assert not hasattr(truth, "correlation_")


def test_negative_correlation_alternates_in_sign():
    X, Y, truth = make_correlated_horizons(
        n_samples=5, n_horizons=4, correlation=-0.5, random_state=0
    )
    assert_allclose(truth.correlation_[0], [1.0, -0.5, 0.25, -0.125])
    assert np.isfinite(Y).all()


@multivariate
def test_multivariate_features_after_the_first_two_are_noise(make):
    X, _, truth = make(n_samples=6, n_features=5, random_state=0)
    other = X.copy()
    other[:, 2:] = np.random.default_rng(0).uniform(-1.0, 1.0, size=(6, 3))
    assert_array_equal(truth.predict(X), truth.predict(other))
    assert_array_equal(truth.covariance(X), truth.covariance(other))


@multivariate
def test_covariance_is_symmetric_positive_definite(make):
    _, _, truth = make(n_samples=1, random_state=0)
    X = np.random.default_rng(1).uniform(-3.0, 3.0, size=(50, truth.n_features))
    covariance = truth.covariance(X)
    assert_allclose(covariance, np.swapaxes(covariance, 1, 2))
    assert (np.linalg.eigvalsh(covariance) > 0).all()


@pytest.mark.parametrize("correlation", [0.9, 0.3, -0.6])
def test_empirical_correlation_of_draws_is_ar1(correlation):
    X, _, truth = make_correlated_horizons(
        n_samples=3, correlation=correlation, random_state=2
    )
    standardised = _standardised_draws(truth, X, 20000, random_state=0)
    empirical = _empirical_correlation(standardised)
    assert np.abs(empirical - truth.correlation_).max() < 0.03


def test_empirical_correlation_of_two_targets_follows_the_features():
    X = np.array([[0.3, -0.9], [-0.5, 0.0], [0.1, 0.2], [0.8, 0.9]])
    truth = make_two_targets(n_samples=1, random_state=0)[2]
    standardised = _standardised_draws(truth, X, 20000, random_state=1)
    empirical = _empirical_correlation(standardised)[:, 0, 1]
    assert np.abs(empirical - 0.8 * np.tanh(2 * X[:, 1])).max() < 0.03


@multivariate
def test_marginal_quantiles_match_the_draws(make):
    X, _, truth = make(n_samples=3, random_state=3)
    n_draws = 20000
    draws = truth.sample(X, n_draws, random_state=0)
    quantiles = truth.predict_marginal_quantile(X, LEVELS)
    share = (draws[:, :, :, None] <= quantiles[:, None, :, :]).mean(axis=1)
    z = (share - LEVELS) / np.sqrt(LEVELS * (1 - LEVELS) / n_draws)
    assert np.abs(z).max() < 4.5, z
    # The mean is the median of every output.
    assert_allclose(truth.predict_marginal_quantile(X, 0.5), truth.predict(X))


@multivariate
@pytest.mark.parametrize("coverage", [0.5, 0.9])
def test_region_covers_its_probability(make, coverage):
    # Fresh targets, one per row, and many draws of a few rows.
    X, Y, truth = make(n_samples=20000, random_state=4)
    assert abs(truth.region_contains(X, Y, coverage).mean() - coverage) < 0.02
    rows = X[:2]
    draws = truth.sample(rows, 20000, random_state=5)
    for row, row_draws in zip(rows, draws, strict=True):
        repeated = np.repeat(row[None, :], len(row_draws), axis=0)
        share = truth.region_contains(repeated, row_draws, coverage).mean()
        assert abs(share - coverage) < 0.02


@multivariate
def test_regions_are_nested_and_hold_the_mean(make):
    X, Y, truth = make(n_samples=500, random_state=6)
    inner = truth.region_contains(X, Y, 0.5)
    outer = truth.region_contains(X, Y, 0.95)
    assert (outer | ~inner).all()
    assert truth.region_contains(X, truth.predict(X), 0.01).all()
    far = truth.predict(X) + 10.0 * np.sqrt(
        np.diagonal(truth.covariance(X), axis1=1, axis2=2)
    )
    assert not truth.region_contains(X, far, 0.999).any()


def test_region_uses_the_dependence():
    # With strong positive correlation a point where both outputs deviate in
    # opposite directions lies outside, the same deviations alike inside.
    X, _, truth = make_correlated_horizons(
        n_samples=1, n_horizons=2, correlation=0.9, random_state=0
    )
    spread = np.sqrt(np.diagonal(truth.covariance(X), axis1=1, axis2=2))
    alike = truth.predict(X) + 1.5 * spread
    opposite = truth.predict(X) + 1.5 * spread * [1.0, -1.0]
    assert truth.region_contains(X, alike, 0.9).all()
    assert not truth.region_contains(X, opposite, 0.9).any()


@multivariate
def test_multivariate_truth_input_validation(make):
    X, Y, truth = make(n_samples=4, random_state=0)
    message = "X has 1 features, but this distribution"
    for method, args in [
        (truth.predict, ()),
        (truth.predict_marginal_quantile, (0.5,)),
        (truth.sample, (2,)),
        (truth.covariance, ()),
    ]:
        with pytest.raises(ValueError, match=message):
            method(X[:, :1], *args)
    with pytest.raises(ValueError, match="Y must have shape"):
        truth.region_contains(X, Y[:3], 0.9)
    with pytest.raises(ValueError, match="Y must have shape"):
        truth.region_contains(X, Y[:, :1], 0.9)
    with pytest.raises(ValueError, match="NaN"):
        truth.region_contains(X, np.full_like(Y, np.nan), 0.9)
    for coverage in [0.0, 1.0, 1.5, "0.9", None]:
        with pytest.raises(ValueError, match="coverage"):
            truth.region_contains(X, Y, coverage)
    with pytest.raises(ValueError, match=r"strictly inside \(0, 1\)"):
        truth.predict_marginal_quantile(X, [0.5, 1.0])
    with pytest.raises(ValueError, match="n_samples must be at least 1"):
        truth.sample(X, 0)
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        truth.sample(X, 2.0)


@multivariate
def test_multivariate_truth_pickles(make):
    X, Y, truth = make(n_samples=6, random_state=0)
    clone = pickle.loads(pickle.dumps(truth))
    assert_array_equal(clone.predict(X), truth.predict(X))
    assert_array_equal(
        clone.predict_marginal_quantile(X, LEVELS),
        truth.predict_marginal_quantile(X, LEVELS),
    )
    assert_array_equal(clone.covariance(X), truth.covariance(X))
    assert_array_equal(
        clone.sample(X, 10, random_state=0), truth.sample(X, 10, random_state=0)
    )
    assert_array_equal(
        clone.region_contains(X, Y, 0.8), truth.region_contains(X, Y, 0.8)
    )
