"""Tests of the skpro adapter (skquantile.skpro) and of sktime reduction on it."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate

pytest.importorskip("skpro", reason="the skpro adapter needs skpro (extra 'skpro')")
pd = pytest.importorskip("pandas", reason="the skpro adapter needs pandas")

from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from skpro.utils.estimator_checks import check_estimator  # noqa: E402

from skquantile import (  # noqa: E402
    CalibratedQuantileRegressor,
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
)
from skquantile.skpro import (  # noqa: E402
    SkquantileDistribution,
    SkquantileProbaRegressor,
)

SMALL = {"hidden_layer_sizes": (16,), "n_members": 1, "max_epochs": 20}


def _same_model_values(actual, expected):
    """The model's values for a subset of rows: evaluated in another batch of
    rows, they can differ in the last bits (a few 1e-16)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


def _toy(n_rows=200, n_targets=1, seed=0):
    """Named features and targets with a row index of strings."""
    rng = np.random.RandomState(seed)
    features = rng.uniform(-1.0, 1.0, size=(n_rows, 3))
    noise = rng.normal(size=(n_rows, n_targets)) * (0.3 + np.abs(features[:, :1]))
    targets = features[:, :n_targets] * [2.0, -1.0][:n_targets] + noise
    index = pd.Index([f"r{i}" for i in range(n_rows)])
    X = pd.DataFrame(features, index=index, columns=["u", "v", "w"])
    y = pd.DataFrame(targets, index=index, columns=["load", "price"][:n_targets])
    return X, y


@pytest.fixture(scope="module")
def fitted():
    """An adapter fitted on one target, test rows, and its distribution."""
    X, y = _toy()
    regressor = SkquantileProbaRegressor(
        IncrementalQuantileRegressor(random_state=0, **SMALL)
    ).fit(X.iloc[:150], y.iloc[:150])
    X_test = X.iloc[150:158]
    return regressor, X_test, regressor.predict_proba(X_test)


@pytest.mark.parametrize("cls", [SkquantileProbaRegressor, SkquantileDistribution])
def test_skpro_check_estimator_passes(cls):
    results = check_estimator(cls, raise_exceptions=False, verbose=False)
    failed = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 50
    assert not failed, failed


def test_outputs_keep_index_and_target_names(fitted):
    regressor, X_test, distribution = fitted
    assert isinstance(distribution, SkquantileDistribution)
    assert distribution.index.equals(X_test.index)
    assert list(distribution.columns) == ["load"]
    mean = regressor.predict(X_test)
    assert mean.index.equals(X_test.index) and list(mean.columns) == ["load"]
    intervals = regressor.predict_interval(X_test, coverage=[0.5, 0.9])
    assert intervals.columns.tolist() == [
        ("load", 0.5, "lower"),
        ("load", 0.5, "upper"),
        ("load", 0.9, "lower"),
        ("load", 0.9, "upper"),
    ]


def test_ppf_cdf_sample_are_the_models_own(fitted):
    regressor, X_test, distribution = fitted
    model = regressor.estimator_
    np.testing.assert_array_equal(
        distribution.ppf(0.8).to_numpy()[:, 0], model.predict_quantile(X_test, 0.8)
    )
    # Different levels per row: few distinct ones (evaluated for every row at
    # once) and all distinct (evaluated row by row).
    rng = np.random.RandomState(1)
    for levels in (
        rng.choice([0.1, 0.5, 0.97], size=len(X_test)),
        rng.uniform(0.01, 0.99, size=len(X_test)),
    ):
        expected = [
            model.predict_quantile(X_test.iloc[[i]], level)[0]
            for i, level in enumerate(levels)
        ]
        _same_model_values(distribution.ppf(levels[:, None]).to_numpy()[:, 0], expected)
    values = rng.normal(size=(len(X_test), 1))
    np.testing.assert_array_equal(
        distribution.cdf(values).to_numpy()[:, 0],
        model.predict_cdf(X_test, values[:, 0]),
    )
    # The edges of the support.
    assert np.isneginf(distribution.ppf(0.0).to_numpy()).all()
    assert (distribution.cdf(np.inf).to_numpy() == 1.0).all()

    seeded = SkquantileDistribution(
        distribution.estimator,
        distribution.X,
        random_state=0,
        index=distribution.index,
        columns=distribution.columns,
    )
    draws = seeded.sample(5)
    expected = model.sample(X_test, 5, random_state=0)
    assert draws.index.nlevels == 2 and len(draws) == 5 * len(X_test)
    np.testing.assert_array_equal(
        draws.to_numpy()[:, 0].reshape(5, len(X_test)), expected.T
    )


def test_pdf_is_the_derivative_of_the_cdf(fitted):
    """The density integrates to the distribution function and is its slope
    (skpro's own numerical fallback once returned it 1e7 times too small)."""
    _, X_test, distribution = fitted
    # One row's law at 1001 values: the row repeated, a value per entry.
    row = SkquantileDistribution(distribution.estimator, X_test.iloc[[0] * 1001])
    low, high = row.ppf(0.05).to_numpy()[0, 0], row.ppf(0.95).to_numpy()[0, 0]
    grid = np.linspace(low, high, 1001)
    density = row.pdf(grid[:, None]).to_numpy()[:, 0]
    assert (density > 0).all()
    np.testing.assert_allclose(integrate.trapezoid(density, grid), 0.9, atol=2e-3)
    rows = distribution.iloc[:3]
    middle = rows.ppf(0.5).to_numpy()
    step = 1e-3 * (high - low)
    slope = (
        rows.cdf(middle + step).to_numpy() - rows.cdf(middle - step).to_numpy()
    ) / (2 * step)
    np.testing.assert_allclose(rows.pdf(middle).to_numpy(), slope, rtol=0.05)
    np.testing.assert_allclose(
        rows.log_pdf(middle).to_numpy(), np.log(rows.pdf(middle).to_numpy())
    )
    assert (rows.pdf(np.inf).to_numpy() == 0.0).all()
    assert np.isneginf(rows.log_pdf(-np.inf).to_numpy()).all()


def test_quantile_and_interval_fast_path_is_exact(fitted):
    regressor, X_test, distribution = fitted
    model = regressor.estimator_
    levels = [0.05, 0.5, 0.95]
    quantiles = regressor.predict_quantiles(X_test, alpha=levels)
    np.testing.assert_array_equal(
        quantiles.to_numpy(), model.predict_quantile(X_test, levels)
    )
    np.testing.assert_allclose(
        distribution.quantile(levels).to_numpy(), quantiles.to_numpy(), rtol=1e-12
    )
    intervals = regressor.predict_interval(X_test, coverage=0.8)
    np.testing.assert_array_equal(
        intervals.to_numpy(),
        model.predict_quantile(X_test, [(1 - 0.8) / 2, (1 + 0.8) / 2]),
    )


def test_mean_and_var_match_monte_carlo(fitted):
    regressor, X_test, distribution = fitted
    n_draws = 200_000
    draws = regressor.estimator_.sample(X_test, n_draws, random_state=0)
    mean = distribution.mean().to_numpy()[:, 0]
    var = distribution.var().to_numpy()[:, 0]
    sd = np.sqrt(var)
    # Five standard errors of the Monte Carlo estimates (the quadrature
    # itself is far more accurate than that).
    np.testing.assert_array_less(np.abs(draws.mean(axis=1) - mean), 5 * sd / 447.0)
    np.testing.assert_allclose(draws.var(axis=1), var, rtol=5 * np.sqrt(8 / n_draws))
    np.testing.assert_array_equal(regressor.predict_var(X_test).to_numpy()[:, 0], var)
    np.testing.assert_array_equal(regressor.predict(X_test).to_numpy()[:, 0], mean)


class _KnownQuantiles:
    """A stand-in model with a closed-form quantile function for each row:
    the standard logistic law, or minus a standard exponential law (a
    logarithmic tail at level 0, as in the incremental tails)."""

    n_outputs_ = 2

    def predict_quantile(self, X, alpha):
        levels = np.asarray(alpha, dtype=float)
        logistic = np.log(levels) - np.log1p(-levels)
        rows = np.ones((len(X), 1, 1))
        return rows * np.stack([logistic, np.log(levels)])[None]

    def predict_cdf(self, X, y):  # pragma: no cover - not queried here
        raise NotImplementedError

    def sample(self, X, n_samples=1, random_state=None):  # pragma: no cover
        raise NotImplementedError


def test_moment_quadrature_against_closed_forms():
    distribution = SkquantileDistribution(_KnownQuantiles(), np.zeros((2, 1)))
    mean = distribution.mean().to_numpy()
    var = distribution.var().to_numpy()
    np.testing.assert_allclose(mean, [[0.0, -1.0]] * 2, atol=1e-10)
    np.testing.assert_allclose(var, [[np.pi**2 / 3, 1.0]] * 2, rtol=1e-10)
    # E|Y - Y'| is 2 for the logistic law and 1 for the exponential one.
    energy = distribution.energy().to_numpy()[:, 0]
    np.testing.assert_allclose(energy, 3.0, rtol=1e-10)
    # E|Y - 0| of minus an exponential law is its mean, 1.
    energy_x = distribution.iloc[:, [1]].energy(np.zeros((2, 1))).to_numpy()
    np.testing.assert_allclose(energy_x[:, 0], 1.0, rtol=1e-10)


def test_subsetting_selects_rows_and_targets():
    X, y = _toy(n_targets=2)
    regressor = SkquantileProbaRegressor(
        IncrementalQuantileRegressor(random_state=0, **SMALL)
    ).fit(X.iloc[:150], y.iloc[:150])
    X_test = X.iloc[150:156]
    distribution = regressor.predict_proba(X_test)
    model = regressor.estimator_
    assert distribution.shape == (6, 2) and list(distribution.columns) == [
        "load",
        "price",
    ]
    full = model.predict_quantile(X_test, [0.3])[..., 0]  # (rows, targets)
    np.testing.assert_array_equal(distribution.ppf(0.3).to_numpy(), full)

    rows = distribution.iloc[[4, 1]]
    assert list(rows.index) == ["r154", "r151"]
    _same_model_values(rows.ppf(0.3).to_numpy(), full[[4, 1]])
    price = distribution.loc[["r152", "r150"], ["price"]]
    assert list(price.columns) == ["price"]
    _same_model_values(price.ppf(0.3).to_numpy()[:, 0], full[[2, 0], 1])
    one = distribution.iat[3, 1]
    assert one.shape == ()
    _same_model_values(one.ppf(0.3), full[3, 1])
    # Each target's distribution function, with the other held anywhere.
    values = np.array([[0.1, -0.4]] * 6)
    np.testing.assert_array_equal(
        price.cdf(values[:2, 1:]).to_numpy()[:, 0],
        model.predict_cdf(X_test.iloc[[2, 0]], values[:2])[:, 1],
    )
    _same_model_values(
        price.cdf(values[:2, 1:]).to_numpy()[:, 0],
        model.predict_cdf(X_test, values)[[2, 0], 1],
    )
    assert distribution.head(2).index.tolist() == ["r150", "r151"]


def test_pipeline_is_wrapped():
    X, y = _toy()
    X = X * [100.0, 1.0, 0.01]
    regressor = SkquantileProbaRegressor(
        make_pipeline(
            StandardScaler(), IncrementalQuantileRegressor(random_state=0, **SMALL)
        )
    ).fit(X.iloc[:150], y.iloc[:150])
    pipeline = regressor.estimator_
    X_test = X.iloc[150:155]
    scaled = pipeline[:-1].transform(X_test)
    expected = pipeline[-1].predict_quantile(scaled, [0.2, 0.8])
    np.testing.assert_array_equal(
        regressor.predict_quantiles(X_test, alpha=[0.2, 0.8]).to_numpy(), expected
    )
    np.testing.assert_array_equal(
        regressor.predict_proba(X_test).ppf(0.8).to_numpy()[:, 0], expected[:, 1]
    )


def test_calibrated_wrapper_is_wrapped():
    X, y = _toy()
    regressor = SkquantileProbaRegressor(
        CalibratedQuantileRegressor(
            IncrementalQuantileRegressor(random_state=0, **SMALL)
        )
    ).fit(X.iloc[:150], y.iloc[:150])
    X_test = X.iloc[150:154]
    distribution = regressor.predict_proba(X_test)
    np.testing.assert_array_equal(
        distribution.ppf(0.8).to_numpy()[:, 0],
        regressor.estimator_.predict_quantile(X_test, 0.8),
    )
    np.testing.assert_allclose(
        distribution.cdf(distribution.ppf(0.3)).to_numpy(), 0.3, rtol=1e-9
    )


def test_convex_one_target_is_exact_and_several_are_refused():
    X, y = _toy(n_targets=2)
    convex = ConvexQuantileRegressor(
        hidden_layer_sizes=(8,),
        potential_layer_sizes=(8,),
        max_epochs=5,
        random_state=0,
    )
    one = SkquantileProbaRegressor(convex).fit(X.iloc[:100], y[["load"]].iloc[:100])
    distribution = one.predict_proba(X.iloc[100:104])
    np.testing.assert_array_equal(
        distribution.ppf(0.7).to_numpy()[:, 0],
        one.estimator_.predict_quantile(X.iloc[100:104], 0.7),
    )
    # The density of the smooth map: the slope of the distribution function.
    middle = distribution.ppf(0.5).to_numpy()
    step = 1e-3 * (
        distribution.ppf(0.75).to_numpy() - distribution.ppf(0.25).to_numpy()
    )
    slope = (
        distribution.cdf(middle + step).to_numpy()
        - distribution.cdf(middle - step).to_numpy()
    ) / (2 * step)
    np.testing.assert_allclose(distribution.pdf(middle).to_numpy(), slope, rtol=1e-4)

    several = SkquantileProbaRegressor(convex)
    assert several.get_tag("capability:multioutput") is False
    with pytest.raises(NotImplementedError, match="marginal.*no closed form"):
        several.fit(X.iloc[:100], y.iloc[:100])
    # The distribution refuses a joint model of several targets as well.
    joint = ConvexQuantileRegressor(
        hidden_layer_sizes=(8,),
        potential_layer_sizes=(8,),
        max_epochs=2,
        random_state=0,
    ).fit(X.iloc[:100], y.iloc[:100])
    with pytest.raises(NotImplementedError, match="jointly"):
        SkquantileDistribution(joint, X.iloc[:3])


def test_bad_estimator_and_targets_are_named():
    X, y = _toy(n_rows=40)
    with pytest.raises(TypeError, match="predict_quantile"):
        SkquantileProbaRegressor(StandardScaler()).fit(X, y)
    with pytest.raises(TypeError, match="predict_quantile"):
        SkquantileDistribution(StandardScaler(), X)
    model = IncrementalQuantileRegressor(random_state=0, **SMALL).fit(X, y["load"])
    with pytest.raises(ValueError, match="targets must be"):
        SkquantileDistribution(model, X, targets=[1])


def test_missing_skpro_gives_an_install_hint(monkeypatch):
    for name in list(sys.modules):
        if name == "skpro" or name.startswith("skpro."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "skquantile.skpro")
    with pytest.raises(ImportError, match=r'pip install "skquantile\[skpro\]"'):
        importlib.import_module("skquantile.skpro")


def test_importing_skquantile_does_not_import_skpro():
    code = "import sys, skquantile; print('skpro' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_sktime_direct_reduction_forecasts_with_the_adapter():
    pytest.importorskip("sktime", reason="the reduction test needs sktime")
    from sktime.datasets import load_airline
    from sktime.forecasting.compose import make_reduction

    y = np.log(load_airline())
    window = 6
    regressor = SkquantileProbaRegressor(
        IncrementalQuantileRegressor(random_state=0, **SMALL)
    )
    forecaster = make_reduction(regressor, strategy="direct", window_length=window)
    horizons = [1, 2, 3]
    forecaster.fit(y, fh=horizons)
    levels = [0.1, 0.5, 0.9]
    quantiles = forecaster.predict_quantiles(alpha=levels)
    intervals = forecaster.predict_interval(coverage=0.8)

    values = quantiles.to_numpy()
    assert values.shape == (3, 3) and np.isfinite(values).all()
    assert (np.diff(values, axis=1) > 0).all()
    bounds = intervals.to_numpy()
    assert np.isfinite(bounds).all() and (bounds[:, 0] < bounds[:, 1]).all()
    assert quantiles.index[0] > y.index[-1]
    # Each horizon's adapter, given the last window of lags, gives the same
    # quantiles as the forecaster.
    lags = y.to_numpy()[-window:].reshape(1, -1)
    for step, adapter in enumerate(forecaster.estimators_):
        assert isinstance(adapter, SkquantileProbaRegressor)
        direct = adapter.predict_quantiles(lags, alpha=levels).to_numpy()[0]
        np.testing.assert_array_equal(values[step], direct)
        interval = adapter.predict_interval(lags, coverage=0.8).to_numpy()[0]
        np.testing.assert_array_equal(bounds[step], interval)
