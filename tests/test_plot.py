"""Tests of the displays in skquantile.plot."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor  # noqa: E402
from skquantile.plot import (  # noqa: E402
    QuantileCalibrationDisplay,
    QuantileFanDisplay,
    RegionDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data_1d():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(150, 2))
    y = 2 * X[:, 0] + rng.normal(scale=0.2 + X[:, 0], size=150)
    return X, y


@pytest.fixture(scope="module")
def model_1d(data_1d):
    X, y = data_1d
    return IncrementalQuantileRegressor(
        max_epochs=5, hidden_layer_sizes=(16,), n_knots=8, random_state=0
    ).fit(X, y)


@pytest.fixture(scope="module")
def data_2d():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(120, 1))
    Y = np.column_stack([X[:, 0], -X[:, 0]]) + rng.normal(size=(120, 2)) @ [
        [1.0, 0.6],
        [0.0, 0.8],
    ]
    return X, Y


@pytest.fixture(scope="module")
def model_2d(data_2d):
    X, Y = data_2d
    return ConvexQuantileRegressor(
        max_epochs=5,
        hidden_layer_sizes=(16,),
        potential_layer_sizes=(8, 8),
        n_energy_samples=8,
        random_state=0,
    ).fit(X, Y)


def test_import_does_not_import_matplotlib():
    code = "import sys, skquantile, skquantile.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        QuantileFanDisplay.from_predictions(
            [0, 1], [[0, 1, 2], [0, 1, 2]], [0.25, 0.5, 0.75], coverages=(0.5,)
        )


# ---------------------------------------------------------------- fan chart


def test_fan_from_estimator(model_1d, data_1d):
    X, y = data_1d
    display = QuantileFanDisplay.from_estimator(model_1d, X, y, feature=0)
    assert isinstance(display, QuantileFanDisplay)
    assert display.figure_ is display.ax_.figure
    polys = [c for c in display.ax_.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 3
    assert sorted(display.bands_) == [0.5, 0.8, 0.95]
    assert len(display.ax_.lines) == 1
    assert display.scatter_ is not None
    assert display.ax_.get_xlabel() == "feature 0"
    assert display.ax_.get_ylabel() == "y"
    # sorted along the feature
    assert np.all(np.diff(display.line_.get_xdata()) >= 0)
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "95% interval" in labels and "median" in labels
    display.figure_.savefig("/tmp/plot_check_fan.png", dpi=80)


def test_fan_row_index_and_ax(model_1d, data_1d):
    X, _ = data_1d
    fig, ax = plt.subplots()
    display = QuantileFanDisplay.from_estimator(
        model_1d, X[:20], coverages=(0.9,), ax=ax
    )
    assert display.ax_ is ax
    assert display.scatter_ is None
    assert list(display.bands_) == [0.9]
    assert display.ax_.get_xlabel() == "row index"
    np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(20))


def test_fan_dataframe_feature(model_1d, data_1d):
    pd = pytest.importorskip("pandas")
    X, y = data_1d
    frame = pd.DataFrame(X, columns=["a", "b"])
    model = IncrementalQuantileRegressor(max_epochs=2, random_state=0).fit(frame, y)
    display = QuantileFanDisplay.from_estimator(model, frame, y, feature="b")
    assert display.ax_.get_xlabel() == "b"
    with pytest.raises(ValueError, match="feature 'c'"):
        QuantileFanDisplay.from_estimator(model, frame, feature="c")


def test_fan_from_predictions():
    x = np.linspace(0, 1, 30)
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    quantiles = x[:, None] + np.array([-2, -1, 0, 1, 2])[None, :]
    display = QuantileFanDisplay.from_predictions(
        x, quantiles, levels, coverages=(0.5, 0.8), xlabel="time", ylabel="load"
    )
    assert sorted(display.bands_) == [0.5, 0.8]
    assert display.ax_.get_xlabel() == "time"
    assert display.ax_.get_ylabel() == "load"
    # without the median, no line
    display = QuantileFanDisplay.from_predictions(
        x, quantiles[:, [0, 4]], [0.1, 0.9], coverages=0.8
    )
    assert display.line_ is None


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(coverages=(0.95,)), ValueError, "coverages"),
        (dict(coverages=(1.5,)), ValueError, "coverages"),
        (dict(coverages=()), ValueError, "coverages"),
        (dict(levels=[0.25, 0.5]), ValueError, "quantiles must have shape"),
        (dict(levels=[0.25, 0.5, 1.0]), ValueError, "levels"),
        (dict(y=[1.0, 2.0]), ValueError, "y must have 5 entries"),
        (dict(x=np.zeros((5, 2))), ValueError, "x must be 1-d"),
        (dict(ax="axes"), TypeError, "ax must be a matplotlib Axes"),
    ],
)
def test_fan_invalid(kwargs, error, match):
    args = dict(
        x=np.arange(5.0),
        quantiles=np.tile([0.0, 1.0, 2.0], (5, 1)),
        levels=[0.25, 0.5, 0.75],
        coverages=(0.5,),
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        QuantileFanDisplay.from_predictions(
            args.pop("x"), args.pop("quantiles"), args.pop("levels"), **args
        )


def test_fan_multi_output_rejected(model_2d, data_2d):
    X, Y = data_2d
    with pytest.raises(ValueError, match="multi-output"):
        QuantileFanDisplay.from_estimator(model_2d, X, Y)


def test_fan_bad_feature(model_1d, data_1d):
    X, _ = data_1d
    with pytest.raises(ValueError, match="out of range"):
        QuantileFanDisplay.from_estimator(model_1d, X, feature=5)
    with pytest.raises(TypeError, match="feature must be"):
        QuantileFanDisplay.from_estimator(model_1d, X, feature=1.5)
    with pytest.raises(TypeError, match="predict_quantile"):
        QuantileFanDisplay.from_estimator(object(), X)


# -------------------------------------------------------------- calibration


def test_calibration_reliability(model_1d, data_1d):
    X, y = data_1d
    display = QuantileCalibrationDisplay.from_estimator(model_1d, X, y)
    assert display.observed_share.shape == (19,)
    assert display.ax_ is display.ax_reliability_
    assert display.ax_pit_ is None and display.bars_ is None
    assert len(display.ax_.lines) == 2  # diagonal and model
    np.testing.assert_allclose(display.line_.get_xdata(), np.linspace(0.05, 0.95, 19))
    assert display.ax_.get_xlabel() == "nominal level"
    assert display.ax_.get_ylabel() == "observed share below quantile"


def test_calibration_both(model_1d, data_1d):
    X, y = data_1d
    display = QuantileCalibrationDisplay.from_estimator(
        model_1d, X, y, kind="both", n_bins=8
    )
    assert display.ax_.shape == (2,)
    assert len(display.figure_.axes) == 2
    assert len(display.ax_pit_.patches) == 8
    assert display.ax_pit_.get_xlabel() == "PIT value F(y | x)"
    heights = [p.get_height() for p in display.bars_]
    assert np.isclose(np.sum(heights) / 8, 1.0)
    display.figure_.savefig("/tmp/plot_check_calibration.png", dpi=80)


def test_calibration_pit_only_with_ax(model_1d, data_1d):
    X, y = data_1d
    fig, ax = plt.subplots()
    display = QuantileCalibrationDisplay.from_estimator(
        model_1d, X, y, kind="pit", ax=ax
    )
    assert display.ax_ is ax and display.ax_pit_ is ax
    assert display.line_ is None
    assert len(ax.patches) == 10


def test_calibration_from_predictions():
    rng = np.random.RandomState(0)
    y = rng.normal(size=400)
    levels = np.array([0.1, 0.5, 0.9])
    from scipy import stats

    quantiles = np.tile(stats.norm.ppf(levels), (400, 1))
    display = QuantileCalibrationDisplay.from_predictions(
        y, quantiles, levels, pit=stats.norm.cdf(y), kind="both"
    )
    np.testing.assert_allclose(display.observed_share, levels, atol=0.05)
    fig, axes = plt.subplots(1, 2)
    display = QuantileCalibrationDisplay.from_predictions(
        y, quantiles, levels, pit=stats.norm.cdf(y), kind="both", ax=axes
    )
    assert display.ax_[0] is axes[0] and display.ax_[1] is axes[1]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(kind="histogram"), ValueError, "kind must be one of"),
        (dict(kind="pit"), ValueError, "pit is required"),
        (dict(pit=[0.5, 0.5]), ValueError, "pit must have 4 entries"),
        (dict(pit=[0.1, 0.2, 0.3, 1.5], kind="pit"), ValueError, "pit must lie"),
        (dict(quantiles=np.zeros((3, 2))), ValueError, "quantiles must have 4 rows"),
        (dict(levels=[0.2, 0.0]), ValueError, "levels"),
        (dict(n_bins=0, pit=[0.1] * 4, kind="pit"), ValueError, "n_bins"),
        (dict(ax=[None], pit=[0.1] * 4, kind="both"), ValueError, "two Axes"),
    ],
)
def test_calibration_invalid(kwargs, error, match):
    args = dict(y=np.arange(4.0), quantiles=np.zeros((4, 2)), levels=[0.2, 0.8])
    args.update(kwargs)
    with pytest.raises(error, match=match):
        QuantileCalibrationDisplay.from_predictions(
            args.pop("y"), args.pop("quantiles"), args.pop("levels"), **args
        )


def test_calibration_multi_output_rejected(model_2d, data_2d):
    X, Y = data_2d
    with pytest.raises(ValueError, match="multi-output"):
        QuantileCalibrationDisplay.from_estimator(model_2d, X, Y)


# ------------------------------------------------------------------ regions


def test_region_from_estimator(model_2d, data_2d):
    X, Y = data_2d
    display = RegionDisplay.from_estimator(model_2d, X[0], Y=Y, n_points=60)
    assert sorted(display.lines_) == [0.5, 0.9]
    assert len(display.ax_.lines) == 2
    assert len(display.ax_.patches) == 2
    assert display.scatter_ is not None
    assert display.ax_.get_xlabel() == "y[0]"
    assert display.ax_.get_ylabel() == "y[1]"
    xdata = display.lines_[0.9].get_xdata()
    assert len(xdata) == 61
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "90% region" in labels
    display.figure_.savefig("/tmp/plot_check_region.png", dpi=80)


def test_region_from_estimator_2d_row(model_2d, data_2d):
    X, _ = data_2d
    display = RegionDisplay.from_estimator(
        model_2d, X[:1], coverages=(0.3, 0.6, 0.9), n_points=30
    )
    assert len(display.fills_) == 3 and display.scatter_ is None
    with pytest.raises(ValueError, match="one row"):
        RegionDisplay.from_estimator(model_2d, X[:2])


def test_region_rejects_other_estimators(model_1d, data_1d):
    X, _ = data_1d
    with pytest.raises(TypeError, match="predict_region"):
        RegionDisplay.from_estimator(model_1d, X[0])
    model = ConvexQuantileRegressor(
        max_epochs=2, potential_layer_sizes=(8,), random_state=0
    ).fit(X[:60], X[:60, 0])
    with pytest.raises(ValueError, match="2 targets"):
        RegionDisplay.from_estimator(model, X[0])


def test_region_from_predictions():
    angle = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    display = RegionDisplay.from_predictions(
        {0.5: circle, 0.9: 2 * circle}, Y=np.zeros((3, 2)), xlabel="a", ylabel="b"
    )
    assert list(display.lines_) == [0.9, 0.5]
    assert display.ax_.get_xlabel() == "a"


@pytest.mark.parametrize(
    "contours, Y, error, match",
    [
        ([np.zeros((5, 2))], None, TypeError, "contours must be a dict"),
        ({}, None, ValueError, "at least one region"),
        ({1.5: np.zeros((5, 2))}, None, ValueError, "contours keys"),
        ({0.5: np.zeros((5, 3))}, None, ValueError, r"shape \(n_points, 2\)"),
        ({0.5: np.zeros((5, 2))}, np.zeros(4), ValueError, "Y must have shape"),
    ],
)
def test_region_invalid(contours, Y, error, match):
    with pytest.raises(error, match=match):
        RegionDisplay.from_predictions(contours, Y=Y)


def test_a_target_fitted_as_a_column_is_refused_by_the_single_target_displays():
    from skquantile.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(60, random_state=0)
    model = IncrementalQuantileRegressor(
        max_epochs=1, hidden_layer_sizes=(4,), n_knots=4, random_state=0
    ).fit(X, y[:, None])
    with pytest.raises(ValueError, match="single 1-d target.*shape"):
        QuantileFanDisplay.from_estimator(model, X, y)
    with pytest.raises(ValueError, match="single 1-d target.*shape"):
        QuantileCalibrationDisplay.from_estimator(model, X, y)


def test_displays_take_pipelines(data_1d, data_2d, model_1d, model_2d):
    """A Pipeline that ends in a skquantile estimator plots as the estimator
    does on the transformed features."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data_1d
    double = FunctionTransformer(lambda values: 2.0 * values)
    halve = FunctionTransformer(lambda values: 0.5 * values)
    pipeline = make_pipeline(double, halve, model_1d)
    piped = QuantileCalibrationDisplay.from_estimator(pipeline, X, y, kind="pit")
    direct = QuantileCalibrationDisplay.from_estimator(model_1d, X, y, kind="pit")
    np.testing.assert_allclose(piped.observed_share, direct.observed_share)
    np.testing.assert_allclose(piped.pit, direct.pit)
    fan = QuantileFanDisplay.from_estimator(pipeline, X, y, feature=0)
    np.testing.assert_allclose(
        fan.quantiles,
        QuantileFanDisplay.from_estimator(model_1d, X, y, feature=0).quantiles,
    )
    X2, Y2 = data_2d
    region = RegionDisplay.from_estimator(make_pipeline(double, halve, model_2d), X2[0])
    expected = RegionDisplay.from_estimator(model_2d, X2[0])
    for coverage, contour in expected.contours.items():
        np.testing.assert_allclose(region.contours[coverage], contour)
