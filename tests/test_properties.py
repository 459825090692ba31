"""Property-based tests: what must hold for any fitted model, whatever the shape
and scale of the data and the parameters of the estimator.

Each example fits a small model on random data (a few rows to a few dozen,
one to four features, one to three targets, targets from 1e-6 to 1e9 in
scale, heavy-tailed, discrete or constant, random weights) and checks one
property of its predictions: quantile functions that never decrease,
``predict_cdf`` and ``predict_quantile`` inverting each other, draws whose
shares below each predicted quantile match its level, nested intervals, the
monotone map of the convex estimator and its nested regions.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor

# QUANTILE_PROPERTY_EXAMPLES=500 explores more widely than the default run.
EXAMPLES = int(os.environ.get("QUANTILE_PROPERTY_EXAMPLES", 12))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACTIVATIONS = ["relu", "silu", "gelu", "tanh"]


@st.composite
def problems(draw, cls, min_outputs=1, max_outputs=3, column=None):
    """A fitted model of class ``cls`` on random data, and query features.

    ``column`` says whether a single target comes as a column (True), as a
    1-d array (False) or either (None).
    """
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n_rows = draw(st.integers(1, 60))
    n_features = draw(st.integers(1, 4))
    n_outputs = draw(st.integers(min_outputs, max_outputs))
    feature_scale = 10.0 ** draw(st.floats(-3, 6))
    feature_offset = draw(st.sampled_from([0.0, 1.0, -1e4, 1e6])) * feature_scale
    X = rng.normal(size=(n_rows, n_features)) * feature_scale + feature_offset

    kind = draw(st.sampled_from(["normal", "student-t", "three-values", "constant"]))
    shape = (n_rows, n_outputs)
    noise = {
        "normal": lambda: rng.normal(size=shape),
        "student-t": lambda: rng.standard_t(1.5, size=shape),
        "three-values": lambda: rng.choice([-1.0, 0.0, 2.0], size=shape),
        "constant": lambda: np.ones(shape),
    }[kind]()
    if kind != "constant":
        noise += np.tanh((X[:, :1] - feature_offset) / feature_scale)
    target_scale = 10.0 ** draw(st.floats(-6, 9))
    target_offset = draw(st.sampled_from([0.0, 10.0, -1e4, 1e6])) * target_scale
    Y = noise * target_scale + target_offset
    if n_outputs == 1 and not (draw(st.booleans()) if column is None else column):
        Y = Y[:, 0]

    weight = None
    if draw(st.booleans()):
        weight = 10.0 ** rng.uniform(-3, 3, size=n_rows)
        weight[rng.uniform(size=n_rows) < 0.2] = 0.0
        weight[rng.integers(n_rows)] = 1.0  # At least one positive weight.

    params = dict(
        hidden_layer_sizes=draw(st.sampled_from([(4,), (8, 8), ()])),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        max_epochs=draw(st.integers(1, 4)),
        batch_size=draw(st.sampled_from([8, 64])),
        random_state=seed,
    )
    if cls is IncrementalQuantileRegressor:
        params.update(
            n_knots=draw(st.integers(2, 12)), n_pieces=draw(st.integers(1, 3))
        )
    else:
        params.update(
            potential_layer_sizes=draw(st.sampled_from([(4,), (8, 8)])),
            n_energy_samples=draw(st.integers(2, 8)),
        )
    model = cls(**params).fit(X, Y, sample_weight=weight)
    # Queries: training rows and rows well outside the training range.
    X_query = np.vstack(
        [X[:3], rng.normal(size=(3, n_features)) * 10 * feature_scale + feature_offset]
    )
    return model, X_query


def sorted_levels(min_size=2, max_size=12):
    """Sorted levels anywhere strictly inside (0, 1), tails included."""
    level = st.one_of(
        st.floats(0, 1, exclude_min=True, exclude_max=True),
        st.sampled_from([1e-300, 1e-12, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-12]),
    )
    return st.lists(level, min_size=min_size, max_size=max_size).map(np.sort)


BOTH = pytest.mark.parametrize(
    "cls", [IncrementalQuantileRegressor, ConvexQuantileRegressor]
)


# %% Quantile functions


@BOTH
@SETTINGS
@given(data=st.data(), levels=sorted_levels())
def test_quantile_functions_never_decrease_and_stay_finite(cls, data, levels):
    # Several targets of the convex estimator have no per-target quantile
    # function: see test_the_convex_map_is_monotone.
    max_outputs = 3 if cls is IncrementalQuantileRegressor else 1
    model, X = data.draw(problems(cls, max_outputs=max_outputs))
    if isinstance(model, ConvexQuantileRegressor) and model._y_ndim == 2:
        levels = levels[:, None]  # Level vectors of one target.
    quantiles = model.predict_quantile(X, levels)
    assert np.isfinite(quantiles).all()
    quantiles = quantiles.reshape(len(X), -1, len(levels))
    assert (np.diff(quantiles, axis=-1) >= 0).all()


@BOTH
@SETTINGS
@given(
    data=st.data(),
    levels=st.lists(st.floats(1e-6, 1 - 1e-6), min_size=1, max_size=6),
    positions=st.lists(st.floats(0, 1), min_size=1, max_size=6),
)
def test_cdf_and_quantile_invert_each_other(cls, data, levels, positions):
    if cls is IncrementalQuantileRegressor:
        problem = problems(cls)
    else:  # predict_cdf is defined for a 1-d target
        problem = problems(cls, max_outputs=1, column=False)
    model, X = data.draw(problem)
    levels = np.asarray(levels)
    # Quantile then CDF: back to the levels, to a relative 1e-6 or to what the
    # float64 resolution of the quantile allows: a few spacings of the
    # quantile divided by its slope (a constant target's quantile function
    # spans only about 1e-8 of its magnitude).
    for level in levels:
        step = 1e-3 * min(level, 1 - level)
        below, quantiles, above = np.moveaxis(
            model.predict_quantile(X, [level - step, level, level + step]), -1, 0
        )
        slope = (above - below) / (2 * step)
        resolution = 16 * np.spacing(np.abs(quantiles)) / slope
        error = np.abs(model.predict_cdf(X, quantiles) - level)
        assert (error <= 1e-6 * level + resolution).all()
    # CDF then quantile: back to targets anywhere between the 0.001 and
    # 0.999 quantiles of each row, to within 1e-6 of that range.
    low, high = np.moveaxis(model.predict_quantile(X, [0.001, 0.999]), -1, 0)
    for position in positions:
        y = low + position * (high - low)
        cdf = model.predict_cdf(X, y).reshape(len(X), -1)  # (rows, outputs)
        back = np.empty_like(cdf)
        for row, levels_of_row in enumerate(cdf):
            # Every output's quantile at every output's level; keep the diagonal.
            quantiles = model.predict_quantile(X[row : row + 1], levels_of_row)
            back[row] = np.diagonal(quantiles.reshape(cdf.shape[1], cdf.shape[1]))
        error = np.abs(back.reshape(y.shape) - y)
        assert (error <= 1e-9 * np.abs(y) + 1e-6 * (high - low)).all()


@BOTH
@SETTINGS
@given(data=st.data(), level=st.floats(0.02, 0.98))
def test_sample_quantiles_converge_to_the_predicted_quantiles(cls, data, level):
    model, X = data.draw(problems(cls))
    n_draws = 4000
    levels = np.array([0.1, 0.5, 0.9, level])
    draws = model.sample(X[[0, -1]], n_draws, random_state=0)
    if model._y_ndim == 1:
        draws = draws[..., None]  # (rows, draws, outputs)
    if isinstance(model, ConvexQuantileRegressor) and model._y_ndim == 2:
        # Marginal quantiles of a joint law: Monte Carlo from 1000 draws.
        quantiles = model.predict_marginal_quantile(X[[0, -1]], levels)
        n_effective = 1.0 / (1.0 / n_draws + 1.0 / 1000)
    else:
        quantiles = model.predict_quantile(X[[0, -1]], levels)
        n_effective = n_draws
    quantiles = quantiles.reshape(2, -1, len(levels))  # (rows, outputs, levels)
    share_below = (draws[..., None] <= quantiles[:, None]).mean(axis=1)
    # Five binomial standard errors.
    tolerance = 5 * np.sqrt(levels * (1 - levels) / n_effective)
    assert (np.abs(share_below - levels) <= tolerance).all(), share_below


@BOTH
@SETTINGS
@given(
    data=st.data(),
    coverages=st.lists(
        st.floats(1e-3, 1 - 1e-3), min_size=2, max_size=2, unique=True
    ).map(sorted),
)
def test_intervals_are_nested(cls, data, coverages):
    model, X = data.draw(problems(cls))
    for narrow, wide in [(0.8, 0.9), coverages]:
        inner = model.predict_interval(X, coverage=narrow)
        outer = model.predict_interval(X, coverage=wide)
        assert np.isfinite(outer).all()
        assert (outer[..., 0] <= inner[..., 0]).all()
        assert (inner[..., 0] <= inner[..., 1]).all()
        assert (inner[..., 1] <= outer[..., 1]).all()


# %% The convex estimator: monotone map and nested regions


@SETTINGS
@given(data=st.data(), n_pairs=st.integers(1, 20))
def test_the_convex_map_is_monotone(data, n_pairs):
    model, X = data.draw(problems(ConvexQuantileRegressor, min_outputs=2))
    rng = np.random.default_rng(n_pairs)
    d = model.n_outputs_
    a = rng.uniform(1e-6, 1 - 1e-6, size=(n_pairs, d))
    b = rng.uniform(1e-6, 1 - 1e-6, size=(n_pairs, d))
    q_a, q_b = model.predict_quantile(X, a), model.predict_quantile(X, b)
    assert np.isfinite(q_a).all() and np.isfinite(q_b).all()
    # <Q(u) - Q(v), u - v> >= 0, measured in standardised target units.
    inner = ((q_a - q_b) / model._y_scale * (special.ndtri(a) - special.ndtri(b))).sum(
        -1
    )
    assert inner.min() >= -1e-6


@SETTINGS
@given(
    data=st.data(),
    narrow=st.floats(0.01, 0.9),
    gap=st.floats(0.05, 0.09),
    n_points=st.integers(1, 24),
)
def test_regions_are_nested(data, narrow, gap, n_points):
    model, X = data.draw(problems(ConvexQuantileRegressor))
    wide = narrow + gap
    inner = model.predict_region(X, coverage=narrow, n_points=n_points)
    outer = model.predict_region(X, coverage=wide, n_points=n_points)
    assert np.isfinite(inner).all() and np.isfinite(outer).all()
    if model._y_ndim == 1:
        assert (outer[:, 0] <= inner[:, 0]).all()
        assert (inner[:, 1] <= outer[:, 1]).all()
        return
    n_rows, n_points, d = inner.shape
    rows = np.repeat(X, n_points, axis=0)
    # The boundary of the narrow region lies inside the wide region, and the
    # boundary of the wide one outside the narrow one.
    assert model.region_contains(rows, inner.reshape(-1, d), coverage=wide).all()
    assert not model.region_contains(rows, outer.reshape(-1, d), coverage=narrow).any()
