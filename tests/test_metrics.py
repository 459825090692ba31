"""Tests of the quantile, sample and interval scores and of the scorers."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_pinball_loss as sklearn_mean_pinball_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skquantile import (
    CalibratedQuantileRegressor,
    ConvexQuantileRegressor,
)
from skquantile import metrics as metrics_module
from skquantile.datasets import make_correlated_horizons
from skquantile.metrics import (
    calibration_error,
    crps_from_quantiles,
    crps_from_samples,
    crps_scorer,
    energy_score,
    energy_scorer,
    interval_coverage,
    interval_score,
    interval_width,
    make_crps_scorer,
    make_energy_scorer,
    make_interval_scorer,
    make_pinball_scorer,
    make_variogram_scorer,
    mean_pinball_loss,
    midpoint_levels,
    pinball_scorer,
    quantile_crossing_rate,
    variogram_score,
    variogram_scorer,
)

# %% Reference formulas and a fake probabilistic model


def normal_crps(y, mean, scale):
    """Closed-form CRPS of the normal distribution N(mean, scale**2) at y."""
    z = (y - mean) / scale
    return scale * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


def pinball(y, quantile, level):
    """Pinball loss of one quantile, elementwise."""
    residual = y - quantile
    return np.maximum(level * residual, (level - 1) * residual)


def brute_force_sample_crps(y, draws):
    """Unbiased sample CRPS of one row from all ordered pairs of draws."""
    n_draws = len(draws)
    pairs = np.abs(draws[:, None] - draws[None, :]).sum()
    return np.abs(draws - y).mean() - pairs / (2 * n_draws * (n_draws - 1))


class FakeNormal(RegressorMixin, BaseEstimator):
    """Linear mean with normal noise whose spread is scaled by ``spread``."""

    def __init__(self, spread=1.0):
        self.spread = spread

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        design = np.column_stack([X, np.ones(len(X))])
        self.coef_ = np.linalg.lstsq(design, y, rcond=None)[0]
        self.scale_ = (y - design @ self.coef_).std(axis=0)
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return np.column_stack([X, np.ones(len(X))]) @ self.coef_

    def predict_quantile(self, X, alpha):
        z = norm.ppf(np.asarray(alpha, dtype=float))
        mean = self.predict(X)[..., None]
        return mean + self.spread * np.asarray(self.scale_)[..., None] * z

    def predict_interval(self, X, coverage=0.9):
        return self.predict_quantile(X, [(1 - coverage) / 2, (1 + coverage) / 2])


class MedianOnly(RegressorMixin, BaseEstimator):
    """A regressor without any quantile method."""

    def fit(self, X, y):
        self.median_ = np.median(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.median_)


def linear_data(n_samples=200, n_outputs=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2)) * [1.0, 10.0] + [5.0, -3.0]
    coef = np.array([1.0, -0.2])
    if n_outputs is None:
        return X, X @ coef + rng.normal(size=n_samples)
    noise = rng.normal(size=(n_samples, n_outputs))
    return X, (X @ coef)[:, None] + noise * np.arange(1, n_outputs + 1)


# %% Levels


@pytest.mark.parametrize(
    "n_levels, expected",
    [(1, [0.5]), (2, [0.25, 0.75]), (4, [0.125, 0.375, 0.625, 0.875])],
)
def test_midpoint_levels_values(n_levels, expected):
    assert_allclose(midpoint_levels(n_levels), expected)


def test_midpoint_levels_average_to_one_half_inside_unit_interval():
    levels = midpoint_levels(999)
    assert levels.shape == (999,)
    assert 0 < levels.min() and levels.max() < 1
    assert np.all(np.diff(levels) > 0)
    assert_allclose(levels.mean(), 0.5)


# %% Pinball loss


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_outputs", [None, 3])
def test_mean_pinball_loss_matches_direct_formula(weighted, n_outputs):
    rng = np.random.default_rng(1)
    shape = (40,) if n_outputs is None else (40, n_outputs)
    y = rng.normal(size=shape)
    levels = np.array([0.9, 0.1, 0.5, 0.3])
    quantiles = rng.normal(size=shape + (4,))
    weight = rng.uniform(0, 2, size=40) if weighted else np.ones(40)

    losses = pinball(y[..., None], quantiles, levels)
    expected = np.average(
        losses.reshape(40, -1, 4).mean(axis=-1), axis=0, weights=weight
    )

    raw = mean_pinball_loss(
        y,
        quantiles,
        levels,
        sample_weight=weight if weighted else None,
        multioutput="raw_values",
    )
    assert raw.shape == ((1,) if n_outputs is None else (n_outputs,))
    assert_allclose(raw, expected)
    average = mean_pinball_loss(
        y, quantiles, levels, sample_weight=weight if weighted else None
    )
    assert isinstance(average, float)
    assert_allclose(average, expected.mean())


@pytest.mark.parametrize("keep_levels_axis", [False, True])
def test_mean_pinball_loss_single_level_matches_sklearn(keep_levels_axis):
    rng = np.random.default_rng(2)
    y, quantile = rng.normal(size=30), rng.normal(size=30)
    weight = rng.uniform(size=30)
    given_quantiles = quantile[:, None] if keep_levels_axis else quantile
    ours = mean_pinball_loss(y, given_quantiles, 0.8, sample_weight=weight)
    theirs = sklearn_mean_pinball_loss(y, quantile, alpha=0.8, sample_weight=weight)
    assert_allclose(ours, theirs)


def test_mean_pinball_loss_multioutput_weights():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(25, 2))
    quantiles = rng.normal(size=(25, 2, 3))
    levels = [0.2, 0.5, 0.8]
    raw = mean_pinball_loss(y, quantiles, levels, multioutput="raw_values")
    weighted = mean_pinball_loss(y, quantiles, levels, multioutput=[3.0, 1.0])
    assert_allclose(weighted, (3 * raw[0] + raw[1]) / 4)
    assert_allclose(mean_pinball_loss(y, quantiles, levels), raw.mean())


def test_each_output_is_scored_on_its_own():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(20, 3))
    quantiles = rng.normal(size=(20, 3, 5))
    levels = midpoint_levels(5)
    raw = crps_from_quantiles(y, quantiles, levels, multioutput="raw_values")
    for output in range(3):
        assert_allclose(
            raw[output], crps_from_quantiles(y[:, output], quantiles[:, output])
        )


# %% CRPS


@pytest.mark.parametrize(
    "mean, scale, y",
    [(0.0, 1.0, 0.0), (0.0, 1.0, 2.5), (3.0, 0.5, 2.0), (-10.0, 20.0, 15.0)],
)
def test_crps_from_quantiles_matches_normal_closed_form(mean, scale, y):
    levels = midpoint_levels(999)
    quantiles = norm.ppf(levels, loc=mean, scale=scale)[None, :]
    assert_allclose(
        crps_from_quantiles([y], quantiles), normal_crps(y, mean, scale), rtol=1e-3
    )


def test_crps_from_quantiles_midpoint_grid_beats_shifted_grid():
    n_levels, y = 99, np.linspace(-2, 2, 9)
    exact = normal_crps(y, 0.0, 1.0).mean()
    midpoint = midpoint_levels(n_levels)
    shifted = np.arange(1, n_levels + 1) / (n_levels + 1)
    error_midpoint = abs(
        crps_from_quantiles(y, np.tile(norm.ppf(midpoint), (9, 1))) - exact
    )
    error_shifted = abs(
        crps_from_quantiles(y, np.tile(norm.ppf(shifted), (9, 1)), shifted) - exact
    )
    assert error_midpoint < error_shifted / 10


def test_crps_from_quantiles_defaults_to_midpoint_grid():
    rng = np.random.default_rng(5)
    y, quantiles = rng.normal(size=15), np.sort(rng.normal(size=(15, 7)), axis=1)
    assert crps_from_quantiles(y, quantiles) == crps_from_quantiles(
        y, quantiles, midpoint_levels(7)
    )
    assert_allclose(
        crps_from_quantiles(y, quantiles),
        2 * mean_pinball_loss(y, quantiles, midpoint_levels(7)),
    )


def test_point_prediction_scores_absolute_error():
    y = np.array([0.0, 1.5, -2.0])
    constant = np.full((3, 10), 0.5)
    expected = np.abs(y - 0.5).mean()
    assert_allclose(crps_from_quantiles(y, constant), expected)
    assert_allclose(crps_from_samples(y, constant), expected)


def test_crps_from_samples_matches_normal_closed_form():
    rng = np.random.default_rng(6)
    mean, scale = rng.normal(size=40), rng.uniform(0.5, 2.0, size=40)
    y = rng.normal(mean, scale)
    draws = rng.normal(mean[:, None], scale[:, None], size=(40, 4000))
    expected = normal_crps(y, mean, scale).mean()
    # The estimate's standard error is about 0.003 here.
    assert_allclose(crps_from_samples(y, draws), expected, atol=0.015)


@pytest.mark.parametrize("n_draws", [2, 3, 8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crps_from_samples_equals_brute_force(n_draws, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(6, 2))
    draws = rng.normal(size=(6, n_draws, 2))
    weight = rng.uniform(size=6)
    expected = np.array(
        [
            [
                brute_force_sample_crps(y[row, out], draws[row, :, out])
                for out in range(2)
            ]
            for row in range(6)
        ]
    )
    raw = crps_from_samples(y, draws, sample_weight=weight, multioutput="raw_values")
    assert_allclose(raw, np.average(expected, axis=0, weights=weight), rtol=1e-12)
    assert_allclose(
        crps_from_samples(y[:, 0], draws[:, :, 0]),
        expected[:, 0].mean(),
        rtol=1e-12,
    )


def test_crps_from_samples_is_invariant_to_draw_order():
    rng = np.random.default_rng(7)
    y, draws = rng.normal(size=10), rng.normal(size=(10, 9))
    shuffled = rng.permuted(draws, axis=1)
    assert_allclose(crps_from_samples(y, draws), crps_from_samples(y, shuffled))


# %% Calibration and crossing


def test_calibration_error_small_for_true_quantiles_large_for_shifted_model():
    rng = np.random.default_rng(8)
    mean = rng.normal(size=20_000)
    y = mean + rng.normal(size=20_000)
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    true_quantiles = mean[:, None] + norm.ppf(levels)
    assert calibration_error(y, true_quantiles, levels) < 0.01
    assert calibration_error(y, true_quantiles + 1.0, levels) > 0.2


def test_calibration_error_hand_computed():
    y = np.array([[0.0, 10.0], [1.0, 10.0], [2.0, 10.0], [3.0, 10.0]])
    quantiles = np.zeros((4, 2, 2))
    quantiles[:, 0] = [1.0, 2.0]
    quantiles[:, 1] = [10.0, 11.0]
    # Shares below: output 0 -> (2/4, 3/4), output 1 -> (1, 1).
    raw = calibration_error(y, quantiles, [0.5, 0.9], multioutput="raw_values")
    assert_allclose(raw, [(0.0 + 0.15) / 2, (0.5 + 0.1) / 2])
    weighted = calibration_error(
        y[:, 0], quantiles[:, 0], [0.5, 0.9], sample_weight=[3, 1, 0, 0]
    )
    assert_allclose(weighted, (0.5 + 0.1) / 2)


@pytest.mark.parametrize(
    "y_quantiles, alpha, expected",
    [
        ([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]], None, 0.25),
        ([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]], [0.1, 0.9, 0.5], 0.25),
        ([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], [0.9, 0.5, 0.1], 1.0),
        ([[0.0, 0.0, 0.0]], None, 0.0),
        ([[3.0, 2.0, 1.0, 0.0]], None, 1.0),
        ([[1.0], [0.0]], None, 0.0),
        ([[1.0], [0.0]], [0.3], 0.0),
        ([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]], None, 0.25),
    ],
)
def test_quantile_crossing_rate_hand_computed(y_quantiles, alpha, expected):
    assert quantile_crossing_rate(y_quantiles, alpha) == expected


# %% Intervals

Y_INTERVAL = [1.0, 2.0, 3.0, 4.0]
INTERVAL = [[0.0, 2.0], [0.0, 1.0], [2.0, 4.0], [4.0, 5.0]]


def test_interval_metrics_hand_computed():
    assert interval_coverage(Y_INTERVAL, INTERVAL) == 0.75
    assert interval_width(INTERVAL) == 1.5
    # Widths 2, 1, 2, 1; the second target misses by 1, penalised by 2 / 0.5.
    assert_allclose(interval_score(Y_INTERVAL, INTERVAL, 0.5), (2 + 5 + 2 + 1) / 4)
    # A miss below the interval, with a = 0.2: width 1 + (2 / 0.2) * 3.
    assert_allclose(interval_score([0.0], [[3.0, 4.0]], 0.8), 31.0)


def test_interval_metrics_weights_and_outputs():
    weight = [0.0, 1.0, 1.0, 0.0]
    assert interval_coverage(Y_INTERVAL, INTERVAL, sample_weight=weight) == 0.5
    assert interval_width(INTERVAL, sample_weight=weight) == 1.5
    y = np.column_stack([Y_INTERVAL, np.zeros(4)])
    interval = np.stack([INTERVAL, np.tile([-1.0, 1.0], (4, 1))], axis=1)
    assert_allclose(
        interval_coverage(y, interval, multioutput="raw_values"), [0.75, 1.0]
    )
    assert_allclose(interval_width(interval, multioutput="raw_values"), [1.5, 2.0])
    assert_allclose(
        interval_score(y, interval, 0.5, multioutput="raw_values"), [2.5, 2.0]
    )
    assert_allclose(interval_score(y, interval, 0.5), 2.25)


@pytest.mark.parametrize("coverage", [0.5, 0.8, 0.95])
def test_interval_score_is_scaled_pinball_loss_of_its_bounds(coverage):
    rng = np.random.default_rng(9)
    y = rng.normal(size=50)
    bounds = np.sort(rng.normal(size=(50, 2)), axis=1)
    miss = 1 - coverage
    pinball_of_bounds = mean_pinball_loss(y, bounds, [miss / 2, 1 - miss / 2])
    assert_allclose(interval_score(y, bounds, coverage), 4 / miss * pinball_of_bounds)


# %% Weights


METRIC_CALLS = {
    "pinball": lambda y, q, w: mean_pinball_loss(y, q, [0.2, 0.7], sample_weight=w),
    "crps_quantiles": lambda y, q, w: crps_from_quantiles(y, q, sample_weight=w),
    "crps_samples": lambda y, q, w: crps_from_samples(y, q, sample_weight=w),
    "calibration": lambda y, q, w: calibration_error(y, q, [0.2, 0.7], sample_weight=w),
    "coverage": lambda y, q, w: interval_coverage(y, q, sample_weight=w),
    "width": lambda y, q, w: interval_width(q, sample_weight=w),
    "interval_score": lambda y, q, w: interval_score(y, q, 0.8, sample_weight=w),
}


@pytest.mark.parametrize("name", list(METRIC_CALLS))
def test_integer_weights_equal_repeated_rows(name):
    rng = np.random.default_rng(10)
    y = rng.normal(size=8)
    predictions = np.sort(rng.normal(size=(8, 2)), axis=1)
    weight = np.array([0, 1, 2, 3, 0, 1, 1, 2])
    metric = METRIC_CALLS[name]
    repeated = np.repeat(np.arange(8), weight)
    assert_allclose(
        metric(y, predictions, weight), metric(y[repeated], predictions[repeated], None)
    )


# %% Input validation

Y = np.array([0.0, 1.0, 2.0])
Q = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
A = [0.25, 0.75]
Y2 = np.zeros((3, 2))
Q2 = np.zeros((3, 2, 2))


def _with_nan(array):
    array = np.array(array, dtype=float)
    array.flat[0] = np.nan
    return array


BAD_INPUTS = [
    # (function, positional args, keyword args, error, name in the message)
    (mean_pinball_loss, (_with_nan(Y), Q, A), {}, ValueError, "y_true"),
    (mean_pinball_loss, (Y, Q + np.inf, A), {}, ValueError, "y_quantiles"),
    (mean_pinball_loss, (["a", "b", "c"], Q, A), {}, ValueError, "y_true"),
    (mean_pinball_loss, (5.0, Q, A), {}, ValueError, "y_true"),
    (mean_pinball_loss, (sp.csr_matrix(Y2), Q2, A), {}, TypeError, "y_true"),
    (mean_pinball_loss, (np.zeros((3, 2, 1)), Q, A), {}, ValueError, "y_true"),
    (mean_pinball_loss, (Y, Q[:2], A), {}, ValueError, "y_quantiles"),
    (mean_pinball_loss, (Y, Q[:, 0], A), {}, ValueError, "y_quantiles"),
    (mean_pinball_loss, (Y2, Q, A), {}, ValueError, "y_quantiles"),
    (mean_pinball_loss, (Y, Q2, A), {}, ValueError, "y_quantiles"),
    (
        mean_pinball_loss,
        (Y, np.array([[object()]] * 3), [0.5]),
        {},
        TypeError,
        "y_quantiles",
    ),
    (mean_pinball_loss, (Y, Q, [0.5]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, [0.25, 0.5, 0.75]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, [0.0, 0.5]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, [0.5, 1.0]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, [0.5, np.nan]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, ["a", "b"]), {}, ValueError, "alpha"),
    (mean_pinball_loss, (Y, Q, None), {}, ValueError, "alpha"),
    (
        mean_pinball_loss,
        (Y, Q, A),
        {"sample_weight": [1, -1, 1]},
        ValueError,
        "sample_weight",
    ),
    (
        mean_pinball_loss,
        (Y, Q, A),
        {"sample_weight": [1, 1]},
        ValueError,
        "sample_weight",
    ),
    (
        mean_pinball_loss,
        (Y, Q, A),
        {"sample_weight": [1, np.nan, 1]},
        ValueError,
        "sample_weight",
    ),
    (
        mean_pinball_loss,
        (Y, Q, A),
        {"sample_weight": [0, 0, 0]},
        ValueError,
        "(?i)sample.weight",
    ),
    (mean_pinball_loss, (Y, Q, A), {"multioutput": "mean"}, ValueError, "multioutput"),
    (mean_pinball_loss, (Y2, Q2, A), {"multioutput": [1.0]}, ValueError, "multioutput"),
    (
        mean_pinball_loss,
        (Y2, Q2, A),
        {"multioutput": [1.0, -1.0]},
        ValueError,
        "multioutput",
    ),
    (crps_from_quantiles, (Y, Q, [0.5]), {}, ValueError, "alpha"),
    (crps_from_quantiles, (Y, np.zeros((3, 2, 0))), {}, ValueError, "y_quantiles"),
    (crps_from_quantiles, (Y2, np.zeros((3, 2, 0))), {}, ValueError, "y_quantiles"),
    (crps_from_samples, (Y, np.zeros((3, 1))), {}, ValueError, "samples"),
    (crps_from_samples, (Y, np.zeros((2, 5))), {}, ValueError, "samples"),
    (crps_from_samples, (Y, np.zeros((3, 5, 1))), {}, ValueError, "samples"),
    (crps_from_samples, (Y2, np.zeros((3, 5, 3))), {}, ValueError, "samples"),
    (crps_from_samples, (Y2, np.zeros((3, 2))), {}, ValueError, "samples"),
    (crps_from_samples, (Y, _with_nan(np.zeros((3, 4)))), {}, ValueError, "samples"),
    (calibration_error, (Y, Q, [0.25, 1.5]), {}, ValueError, "alpha"),
    (calibration_error, (Y, Q[:, :1], A), {}, ValueError, "alpha"),
    (quantile_crossing_rate, ([0.0, 1.0],), {}, ValueError, "y_quantiles"),
    (quantile_crossing_rate, (Q, [0.5]), {}, ValueError, "alpha"),
    (quantile_crossing_rate, (Q, [0.5, -0.5]), {}, ValueError, "alpha"),
    (quantile_crossing_rate, (_with_nan(Q),), {}, ValueError, "y_quantiles"),
    (interval_coverage, (Y, np.zeros((3, 3))), {}, ValueError, "interval"),
    (interval_coverage, (Y, np.zeros((2, 2))), {}, ValueError, "interval"),
    (interval_coverage, (Y, [[1.0, 0.0]] * 3), {}, ValueError, "interval"),
    (interval_coverage, (Y2, np.zeros((3, 2))), {}, ValueError, "interval"),
    (interval_width, (np.zeros(3),), {}, ValueError, "interval"),
    (interval_width, (np.zeros((3, 2, 2, 2)),), {}, ValueError, "interval"),
    (interval_width, (_with_nan(np.zeros((3, 2))),), {}, ValueError, "interval"),
    (interval_score, (Y, Q, 1.0), {}, ValueError, "coverage"),
    (interval_score, (Y, Q, 0.0), {}, ValueError, "coverage"),
    (interval_score, (Y, Q, "0.9"), {}, ValueError, "coverage"),
    (interval_score, (Y, Q, np.nan), {}, ValueError, "coverage"),
    (midpoint_levels, (0,), {}, ValueError, "n_levels"),
    (midpoint_levels, (2.5,), {}, TypeError, "n_levels"),
    (midpoint_levels, ("3",), {}, TypeError, "n_levels"),
    (midpoint_levels, (True,), {}, TypeError, "n_levels"),
    (quantile_crossing_rate, (np.zeros((3, 2, 0)),), {}, ValueError, "y_quantiles"),
]


@pytest.mark.parametrize(
    "function, args, kwargs, error, match",
    BAD_INPUTS,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(BAD_INPUTS)],
)
def test_bad_inputs_raise_naming_the_argument(function, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(*args, **kwargs)


@pytest.mark.parametrize(
    "factory, kwargs, match",
    [
        (make_crps_scorer, {"n_levels": 0}, "n_levels"),
        (make_crps_scorer, {"n_levels": 9.5}, "n_levels"),
        (make_pinball_scorer, {"alpha": [0.5, 1.0]}, "alpha"),
        (make_pinball_scorer, {"alpha": [0.5, np.nan]}, "alpha"),
        (make_pinball_scorer, {"alpha": "median"}, "alpha"),
        (make_interval_scorer, {"coverage": 1.0}, "coverage"),
        (make_interval_scorer, {"coverage": -0.5}, "coverage"),
        (make_interval_scorer, {"coverage": None}, "coverage"),
    ],
)
def test_scorer_factories_validate_parameters(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


# %% Scorers


@pytest.fixture(scope="module")
def fitted():
    X, y = linear_data()
    return X, y, FakeNormal().fit(X, y)


def test_scorers_return_minus_their_metric(fitted):
    X, y, model = fitted
    weight = np.random.default_rng(11).uniform(size=len(y))
    levels = midpoint_levels(15)
    assert_allclose(
        make_crps_scorer(15)(model, X, y, sample_weight=weight),
        -crps_from_quantiles(
            y, model.predict_quantile(X, levels), sample_weight=weight
        ),
    )
    pinball_levels = np.linspace(0.05, 0.95, 19)
    assert_allclose(
        pinball_scorer(model, X, y),
        -mean_pinball_loss(
            y, model.predict_quantile(X, pinball_levels), pinball_levels
        ),
    )
    assert_allclose(
        make_pinball_scorer(0.3)(model, X, y),
        -mean_pinball_loss(y, model.predict_quantile(X, [0.3]), 0.3),
    )
    assert_allclose(
        make_interval_scorer(0.8)(model, X, y),
        -interval_score(y, model.predict_interval(X, coverage=0.8), 0.8),
    )


def test_crps_scorer_defaults_to_99_midpoint_levels(fitted):
    X, y, model = fitted
    assert repr(crps_scorer) == "make_crps_scorer(n_levels=99)"
    assert repr(pinball_scorer) == "make_pinball_scorer()"
    assert repr(make_interval_scorer()) == "make_interval_scorer(coverage=0.9)"
    expected = -crps_from_quantiles(y, model.predict_quantile(X, midpoint_levels(99)))
    assert_allclose(crps_scorer(model, X, y), expected)


def test_scorer_on_multioutput_target():
    X, y = linear_data(n_outputs=2)
    model = FakeNormal().fit(X, y)
    quantiles = model.predict_quantile(X, midpoint_levels(99))
    assert quantiles.shape == (len(X), 2, 99)
    assert_allclose(crps_scorer(model, X, y), -crps_from_quantiles(y, quantiles))


def test_scorers_see_through_pipelines():
    X, y = linear_data()
    pipe = Pipeline([("scale", StandardScaler()), ("model", FakeNormal())]).fit(X, y)
    scaled = pipe[:-1].transform(X)
    nested = Pipeline([("skip", "passthrough"), ("inner", Pipeline(pipe.steps))]).fit(
        X, y
    )
    for scorer in [crps_scorer, pinball_scorer, make_interval_scorer(0.5)]:
        expected = scorer(pipe[-1], scaled, y)
        assert_allclose(scorer(pipe, X, y), expected)
        assert_allclose(scorer(nested, X, y), expected)


def test_grid_search_with_crps_scorer_prefers_true_spread():
    X, y = linear_data(n_samples=300)
    pipe = Pipeline([("scale", StandardScaler()), ("model", FakeNormal())])
    search = GridSearchCV(
        pipe,
        {"model__spread": [0.3, 1.0, 3.0]},
        scoring=crps_scorer,
        cv=3,
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_ == {"model__spread": 1.0}
    assert np.all(search.cv_results_["mean_test_score"] < 0)


@pytest.mark.parametrize(
    "scorer, method",
    [(crps_scorer, "predict_quantile"), (make_interval_scorer(), "predict_interval")],
)
def test_scorer_rejects_estimator_without_the_method(scorer, method):
    X, y = linear_data(n_samples=20)
    with pytest.raises(TypeError, match=f"Ridge.*{method}"):
        scorer(Ridge().fit(X, y), X, y)
    pipe = Pipeline([("scale", StandardScaler()), ("model", MedianOnly())]).fit(X, y)
    with pytest.raises(TypeError, match=f"MedianOnly.*Pipeline.*{method}"):
        scorer(pipe, X, y)


def test_scorers_pickle(fitted):
    X, y, model = fitted
    for scorer in [crps_scorer, pinball_scorer, make_interval_scorer(0.7)]:
        restored = pickle.loads(pickle.dumps(scorer))
        assert repr(restored) == repr(scorer)
        assert restored(model, X, y) == scorer(model, X, y)


# %% Properties

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 6)),
        elements=finite,
    )
)
def test_sorted_quantiles_never_cross(values):
    quantiles = np.sort(values, axis=-1)
    assert quantile_crossing_rate(quantiles) == 0.0
    assert quantile_crossing_rate(quantiles[:, 0]) == 0.0
    levels = midpoint_levels(values.shape[-1])
    assert quantile_crossing_rate(quantiles[..., ::-1], levels[::-1]) == 0.0


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=finite),
            arrays(
                np.float64, st.tuples(st.just(n), st.integers(2, 8)), elements=finite
            ),
        )
    )
)
def test_sample_crps_is_non_negative_and_matches_brute_force(data):
    y, draws = data
    score = crps_from_samples(y, draws, multioutput="raw_values")[0]
    scale = 1.0 + np.abs(draws).max() + np.abs(y).max()
    assert score >= -1e-12 * scale
    expected = np.mean(
        [brute_force_sample_crps(*row) for row in zip(y, draws, strict=True)]
    )
    assert_allclose(score, expected, rtol=1e-9, atol=1e-12 * scale)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=finite),
            arrays(
                np.float64, st.tuples(st.just(n), st.integers(1, 6)), elements=finite
            ),
        )
    )
)
def test_quantile_scores_are_non_negative(data):
    y, quantiles = data
    assert crps_from_quantiles(y, quantiles) >= 0.0
    assert (
        0.0 <= calibration_error(y, quantiles, midpoint_levels(quantiles.shape[1])) < 1
    )


# %% Multivariate sample scores: energy and variogram


def brute_force_energy(y, draws, beta=1.0):
    """Unbiased energy score of one row, from explicit loops over the draws."""
    n_draws = len(draws)
    to_target = np.mean([np.linalg.norm(w - y) ** beta for w in draws])
    pairs = sum(
        np.linalg.norm(draws[j] - draws[k]) ** beta
        for j in range(n_draws)
        for k in range(n_draws)
        if j != k
    )
    return to_target - pairs / (2 * n_draws * (n_draws - 1))


def brute_force_variogram(y, draws, p=0.5, weights=None):
    """Variogram score of one row, from explicit loops over pairs of outputs."""
    n_outputs = len(y)
    weights = np.ones((n_outputs, n_outputs)) if weights is None else weights
    total = 0.0
    for i in range(n_outputs):
        for j in range(n_outputs):
            expected = np.mean([abs(w[i] - w[j]) ** p for w in draws])
            total += weights[i, j] * (abs(y[i] - y[j]) ** p - expected) ** 2
    return total


def shuffle_each_output(draws, seed=0):
    """Permute each output's draws independently within each row.

    Every output keeps exactly its draws (hence its marginal law and its
    sample CRPS), but the dependence between outputs is destroyed.
    """
    rng = np.random.default_rng(seed)
    n_rows, n_draws, n_outputs = draws.shape
    shuffled = np.empty_like(draws)
    for output in range(n_outputs):
        order = rng.permuted(np.tile(np.arange(n_draws), (n_rows, 1)), axis=1)
        shuffled[:, :, output] = np.take_along_axis(draws[:, :, output], order, axis=1)
    return shuffled


@pytest.mark.parametrize("beta", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("n_outputs, n_draws", [(1, 2), (2, 3), (3, 7), (5, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_energy_score_equals_brute_force(beta, n_outputs, n_draws, weighted):
    rng = np.random.default_rng(n_outputs * 10 + n_draws)
    y = rng.normal(size=(6, n_outputs))
    draws = rng.normal(size=(6, n_draws, n_outputs))
    weight = rng.uniform(0, 2, size=6) if weighted else np.ones(6)
    expected = np.average(
        [brute_force_energy(*row, beta=beta) for row in zip(y, draws, strict=True)],
        weights=weight,
    )
    score = energy_score(
        y, draws, beta=beta, sample_weight=weight if weighted else None
    )
    assert isinstance(score, float)
    assert_allclose(score, expected, rtol=1e-12)


def test_energy_score_with_one_output_is_the_sample_crps():
    rng = np.random.default_rng(20)
    y = rng.normal(size=30)
    draws = rng.normal(size=(30, 25)) * 2.0 + 0.5
    weight = rng.uniform(size=30)
    expected = crps_from_samples(y, draws, sample_weight=weight)
    assert_allclose(energy_score(y, draws, sample_weight=weight), expected)
    assert_allclose(energy_score(y, draws[:, :, None], sample_weight=weight), expected)
    assert_allclose(
        energy_score(y[:, None], draws[:, :, None], sample_weight=weight), expected
    )


def test_energy_score_is_invariant_to_rotations_and_shifts():
    rng = np.random.default_rng(21)
    y = rng.normal(size=(10, 3))
    draws = rng.normal(size=(10, 6, 3))
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    shift = rng.normal(size=3)
    assert_allclose(
        energy_score(y @ rotation.T + shift, draws @ rotation.T + shift),
        energy_score(y, draws),
        rtol=1e-12,
    )


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("n_outputs, n_draws", [(2, 1), (3, 4), (5, 6)])
def test_variogram_score_equals_brute_force(p, n_outputs, n_draws):
    rng = np.random.default_rng(n_outputs * 10 + n_draws)
    y = rng.normal(size=(5, n_outputs))
    draws = rng.normal(size=(5, n_draws, n_outputs))
    weights = rng.uniform(size=(n_outputs, n_outputs))
    sample_weight = rng.uniform(size=5)
    assert_allclose(
        variogram_score(y, draws, p=p),
        np.mean(
            [brute_force_variogram(*row, p=p) for row in zip(y, draws, strict=True)]
        ),
        rtol=1e-12,
    )
    expected = np.average(
        [
            brute_force_variogram(*row, p=p, weights=weights)
            for row in zip(y, draws, strict=True)
        ],
        weights=sample_weight,
    )
    score = variogram_score(y, draws, p=p, weights=weights, sample_weight=sample_weight)
    assert isinstance(score, float)
    assert_allclose(score, expected, rtol=1e-12)


def test_variogram_score_ignores_a_shift_common_to_all_outputs():
    rng = np.random.default_rng(22)
    y = rng.normal(size=(8, 4))
    draws = rng.normal(size=(8, 5, 4))
    shift = rng.normal(size=(8, 1))
    assert_allclose(variogram_score(y + shift, draws), variogram_score(y, draws))
    assert variogram_score(y, draws) > 0


@pytest.fixture(scope="module")
def horizons():
    """Targets of correlated horizons, true joint draws and decorrelated ones."""
    X, Y, truth = make_correlated_horizons(
        n_samples=500, correlation=0.9, random_state=0
    )
    draws = truth.sample(X, 100, random_state=1)
    return Y, draws, shuffle_each_output(draws, seed=2)


def test_scores_prefer_the_true_dependence_to_independent_outputs(horizons):
    Y, draws, independent = horizons
    # The marginal draws are identical, so every per-output CRPS is too.
    assert_allclose(
        crps_from_samples(Y, draws, multioutput="raw_values"),
        crps_from_samples(Y, independent, multioutput="raw_values"),
    )
    # The energy score reacts weakly to the dependence, the variogram score
    # strongly (it more than doubles here).
    assert energy_score(Y, independent) > 1.02 * energy_score(Y, draws)
    assert variogram_score(Y, independent) > 1.5 * variogram_score(Y, draws)
    assert variogram_score(Y, independent, p=1.0) > 1.5 * variogram_score(
        Y, draws, p=1.0
    )


@pytest.mark.parametrize("budget", [1, 5, 40, 700])
def test_chunked_scores_equal_unchunked(monkeypatch, budget):
    rng = np.random.default_rng(23)
    y = rng.normal(size=(13, 3))
    draws = rng.normal(size=(13, 9, 3))
    weight = rng.uniform(size=13)
    energy = energy_score(y, draws, beta=0.8, sample_weight=weight)
    variogram = variogram_score(y, draws, sample_weight=weight)
    monkeypatch.setattr(metrics_module, "_MAX_CHUNK_FLOATS", budget)
    assert_allclose(
        energy_score(y, draws, beta=0.8, sample_weight=weight), energy, rtol=1e-12
    )
    assert_allclose(variogram_score(y, draws, sample_weight=weight), variogram)


@pytest.mark.parametrize("n_items, item_size, budget", [(10, 3, 7), (5, 9, 4)])
def test_chunks_cover_every_item_once_within_the_budget(n_items, item_size, budget):
    parts = metrics_module._chunks(n_items, item_size, budget)
    covered = np.concatenate([np.arange(n_items)[part] for part in parts])
    assert_array_equal(covered, np.arange(n_items))
    sizes = [len(range(n_items)[part]) for part in parts]
    assert all(size * item_size <= budget or size == 1 for size in sizes)


MULTIVARIATE_CALLS = {
    "energy": lambda y, w, weight: energy_score(y, w, sample_weight=weight),
    "variogram": lambda y, w, weight: variogram_score(y, w, sample_weight=weight),
}


@pytest.mark.parametrize("name", list(MULTIVARIATE_CALLS))
def test_multivariate_integer_weights_equal_repeated_rows(name):
    rng = np.random.default_rng(24)
    y = rng.normal(size=(8, 3))
    draws = rng.normal(size=(8, 4, 3))
    weight = np.array([0, 1, 2, 3, 0, 1, 1, 2])
    repeated = np.repeat(np.arange(8), weight)
    metric = MULTIVARIATE_CALLS[name]
    assert_allclose(
        metric(y, draws, weight), metric(y[repeated], draws[repeated], None)
    )


W3 = np.zeros((3, 4, 2))
MULTIVARIATE_BAD_INPUTS = [
    # (function, positional args, keyword args, error, name in the message)
    (energy_score, (Y2, np.zeros((3, 1, 2))), {}, ValueError, "samples"),
    (energy_score, (Y2, np.zeros((3, 4))), {}, ValueError, "samples"),
    (energy_score, (Y2, np.zeros((2, 4, 2))), {}, ValueError, "samples"),
    (energy_score, (Y2, np.zeros((3, 4, 3))), {}, ValueError, "samples"),
    (energy_score, (Y, np.zeros((3, 4, 2))), {}, ValueError, "samples"),
    (energy_score, (Y2, _with_nan(W3)), {}, ValueError, "samples"),
    (energy_score, (_with_nan(Y2), W3), {}, ValueError, "y_true"),
    (energy_score, (np.zeros((3, 2, 1)), W3), {}, ValueError, "y_true"),
    (energy_score, (Y2, W3), {"beta": 0.0}, ValueError, "beta"),
    (energy_score, (Y2, W3), {"beta": 2.0}, ValueError, "beta"),
    (energy_score, (Y2, W3), {"beta": np.nan}, ValueError, "beta"),
    (energy_score, (Y2, W3), {"beta": "1"}, ValueError, "beta"),
    (energy_score, (Y2, W3), {"sample_weight": [1, -1, 1]}, ValueError, "weight"),
    (energy_score, (Y2, W3), {"sample_weight": [1, 1]}, ValueError, "weight"),
    (variogram_score, (Y, np.zeros((3, 4))), {}, ValueError, "y_true"),
    (variogram_score, (Y[:, None], np.zeros((3, 4, 1))), {}, ValueError, "y_true"),
    (variogram_score, (Y2, np.zeros((3, 0, 2))), {}, ValueError, "samples"),
    (variogram_score, (Y2, np.zeros((3, 4, 3))), {}, ValueError, "samples"),
    (variogram_score, (Y2, np.zeros((3, 4))), {}, ValueError, "samples"),
    (variogram_score, (Y2, W3 + np.inf), {}, ValueError, "samples"),
    (variogram_score, (Y2, W3), {"p": 0.0}, ValueError, "'p'"),
    (variogram_score, (Y2, W3), {"p": -1.0}, ValueError, "'p'"),
    (variogram_score, (Y2, W3), {"p": np.inf}, ValueError, "'p'"),
    (variogram_score, (Y2, W3), {"weights": np.ones(2)}, ValueError, "weights"),
    (variogram_score, (Y2, W3), {"weights": np.ones((3, 3))}, ValueError, "weights"),
    (variogram_score, (Y2, W3), {"weights": -np.ones((2, 2))}, ValueError, "weights"),
    (
        variogram_score,
        (Y2, W3),
        {"weights": _with_nan(np.ones((2, 2)))},
        ValueError,
        "weights",
    ),
    (variogram_score, (Y2, W3), {"weights": 1.0}, ValueError, "weights"),
    (variogram_score, (Y2, W3), {"sample_weight": [0, 0, 0]}, ValueError, "weight"),
]


@pytest.mark.parametrize(
    "function, args, kwargs, error, match",
    MULTIVARIATE_BAD_INPUTS,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(MULTIVARIATE_BAD_INPUTS)],
)
def test_multivariate_bad_inputs_raise_naming_the_argument(
    function, args, kwargs, error, match
):
    with pytest.raises(error, match=match):
        function(*args, **kwargs)


@pytest.mark.parametrize(
    "factory, kwargs, match",
    [
        (make_energy_scorer, {"n_samples": 1}, "n_samples"),
        (make_energy_scorer, {"n_samples": 10.0}, "n_samples"),
        (make_energy_scorer, {"beta": 2.0}, "beta"),
        (make_energy_scorer, {"beta": 0}, "beta"),
        (make_energy_scorer, {"random_state": "seed"}, "random_state"),
        (make_variogram_scorer, {"n_samples": 0}, "n_samples"),
        (make_variogram_scorer, {"p": 0.0}, "'p'"),
        (make_variogram_scorer, {"random_state": 1.5}, "random_state"),
    ],
)
def test_sample_scorer_factories_validate_parameters(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


# %% Scorers of joint draws


class FakeJointModel(RegressorMixin, BaseEstimator):
    """Draws from the correlated-horizons law, with a chosen correlation."""

    def __init__(self, correlation=0.9):
        self.correlation = correlation

    def fit(self, X, Y):
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        self.truth_ = make_correlated_horizons(
            n_samples=1,
            n_horizons=Y.shape[1],
            correlation=self.correlation,
            n_features=X.shape[1],
        )[2]
        return self

    def predict(self, X):
        return self.truth_.predict(X)

    def sample(self, X, n_samples, random_state=None):
        return self.truth_.sample(X, n_samples, random_state=random_state)


@pytest.fixture(scope="module")
def joint_fitted():
    X, Y, _ = make_correlated_horizons(n_samples=120, n_horizons=4, random_state=5)
    return X, Y, FakeJointModel().fit(X, Y)


def test_sample_scorers_return_minus_their_score(joint_fitted):
    X, Y, model = joint_fitted
    weight = np.random.default_rng(25).uniform(size=len(Y))
    assert repr(energy_scorer) == (
        "make_energy_scorer(n_samples=100, beta=1.0, random_state=0)"
    )
    assert repr(variogram_scorer) == (
        "make_variogram_scorer(n_samples=100, p=0.5, random_state=0)"
    )
    draws = model.sample(X, 100, random_state=0)
    assert_allclose(energy_scorer(model, X, Y), -energy_score(Y, draws))
    assert_allclose(variogram_scorer(model, X, Y), -variogram_score(Y, draws))
    draws = model.sample(X, 30, random_state=4)
    assert_allclose(
        make_energy_scorer(30, beta=0.5, random_state=4)(
            model, X, Y, sample_weight=weight
        ),
        -energy_score(Y, draws, beta=0.5, sample_weight=weight),
    )
    assert_allclose(
        make_variogram_scorer(30, p=1.0, random_state=4)(
            model, X, Y, sample_weight=weight
        ),
        -variogram_score(Y, draws, p=1.0, sample_weight=weight),
    )


def test_sample_scorers_are_deterministic_with_an_integer_seed(joint_fitted):
    X, Y, model = joint_fitted
    for scorer in [energy_scorer, variogram_scorer]:
        assert scorer(model, X, Y) == scorer(model, X, Y)
    fresh = make_energy_scorer(random_state=None)
    assert fresh(model, X, Y) != fresh(model, X, Y)


def test_sample_scorers_see_through_pipelines(joint_fitted):
    X, Y, _ = joint_fitted
    pipe = Pipeline([("scale", StandardScaler()), ("model", FakeJointModel())])
    pipe.fit(X, Y)
    scaled = pipe[:-1].transform(X)
    nested = Pipeline([("skip", "passthrough"), ("inner", Pipeline(pipe.steps))])
    nested.fit(X, Y)
    for scorer in [energy_scorer, make_variogram_scorer(n_samples=20, p=1.0)]:
        expected = scorer(pipe[-1], scaled, Y)
        assert_allclose(scorer(pipe, X, Y), expected)
        assert_allclose(scorer(nested, X, Y), expected)


@pytest.mark.parametrize("scorer", [energy_scorer, variogram_scorer])
def test_grid_search_with_sample_scorers_prefers_true_dependence(scorer):
    X, Y, _ = make_correlated_horizons(n_samples=450, correlation=0.9, random_state=6)
    search = GridSearchCV(
        FakeJointModel(),
        {"correlation": [0.0, 0.9]},
        scoring=scorer,
        cv=3,
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_ == {"correlation": 0.9}


@pytest.mark.parametrize("scorer", [energy_scorer, variogram_scorer])
def test_sample_scorers_reject_estimator_without_sample(scorer):
    X, Y, _ = make_correlated_horizons(n_samples=20, random_state=0)
    with pytest.raises(TypeError, match="Ridge.*'sample'"):
        scorer(Ridge().fit(X, Y), X, Y)
    pipe = Pipeline([("scale", StandardScaler()), ("model", MedianOnly())]).fit(X, Y)
    with pytest.raises(TypeError, match="MedianOnly.*Pipeline.*'sample'"):
        scorer(pipe, X, Y)


def test_sample_scorers_pickle(joint_fitted):
    X, Y, model = joint_fitted
    for scorer in [energy_scorer, make_variogram_scorer(n_samples=10, p=2.0)]:
        restored = pickle.loads(pickle.dumps(scorer))
        assert repr(restored) == repr(scorer)
        assert restored(model, X, Y) == scorer(model, X, Y)


# %% Properties of the multivariate scores


@st.composite
def multivariate_rows(draw, min_outputs=1, min_draws=2):
    n_rows = draw(st.integers(1, 3))
    n_draws = draw(st.integers(min_draws, 5))
    n_outputs = draw(st.integers(min_outputs, 3))
    y = draw(arrays(np.float64, (n_rows, n_outputs), elements=finite))
    draws = draw(arrays(np.float64, (n_rows, n_draws, n_outputs), elements=finite))
    return y, draws


@settings(max_examples=50, deadline=None)
@given(multivariate_rows(), st.sampled_from([0.3, 1.0]))
def test_energy_score_is_non_negative_and_matches_brute_force(data, beta):
    y, draws = data
    score = energy_score(y, draws, beta=beta)
    scale = (1.0 + np.abs(draws).max() + np.abs(y).max()) ** beta
    assert score >= -1e-12 * scale
    expected = np.mean(
        [brute_force_energy(*row, beta=beta) for row in zip(y, draws, strict=True)]
    )
    assert_allclose(score, expected, rtol=1e-9, atol=1e-12 * scale)


@settings(max_examples=50, deadline=None)
@given(multivariate_rows(min_outputs=2, min_draws=1))
def test_variogram_score_is_non_negative_and_matches_brute_force(data):
    y, draws = data
    score = variogram_score(y, draws)
    assert score >= 0.0
    expected = np.mean(
        [brute_force_variogram(*row) for row in zip(y, draws, strict=True)]
    )
    scale = 1.0 + np.abs(draws).max() + np.abs(y).max()
    assert_allclose(score, expected, rtol=1e-9, atol=1e-12 * scale)


def test_shared_parameter_descriptions_leave_no_placeholder():
    import re

    from skquantile import datasets, metrics
    from skquantile._docstrings import shared_parameters

    documented = [
        (module.__name__, name, getattr(module, name).__doc__)
        for module in (metrics, datasets)
        for name in module.__all__
    ]
    plot = pytest.importorskip("skquantile.plot")
    documented += [
        (name, method, getattr(getattr(plot, name), method).__doc__)
        for name in plot.__all__
        for method in ("plot", "from_estimator", "from_predictions")
    ]
    for module, name, doc in documented:
        placeholder = re.search(r"^\s*\{[A-Za-z_]\w*\}\s*$", doc or "", flags=re.M)
        assert placeholder is None, (module, name)
    assert "    y_true : array-like" in metrics.mean_pinball_loss.__doc__

    def undocumented():
        """Parameters
        ----------
        {unknown}
        """

    with pytest.raises(KeyError, match="unknown"):
        shared_parameters({})(undocumented)


def test_quantile_scorers_refuse_a_joint_model_by_name():
    """A joint model of a 2-d target takes one level per target in
    predict_quantile: the quantile scorers say so and name the scorers that
    fit it, also through a pipeline and a calibrated wrapper."""
    X, Y, _ = make_correlated_horizons(n_samples=60, n_horizons=2, random_state=3)
    small = {"hidden_layer_sizes": (8,), "potential_layer_sizes": (8,)}
    joint = ConvexQuantileRegressor(max_epochs=2, random_state=0, **small)
    for model in (
        clone(joint),
        make_pipeline(StandardScaler(), clone(joint)),
        CalibratedQuantileRegressor(clone(joint), cv="members"),
    ):
        model.fit(X, Y)
        for scorer in (crps_scorer, pinball_scorer):
            with pytest.raises(ValueError, match="jointly.*energy_scorer"):
                scorer(model, X, Y)
        assert np.isfinite(energy_scorer(model, X, Y))
    # A single target of the same model is scored as usual.
    one = clone(joint).fit(X, Y[:, 0])
    assert np.isfinite(crps_scorer(one, X, Y[:, 0]))
