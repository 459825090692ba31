"""Bad input wherever a user passes data: fit, every query method, the metrics,
the scorers and the known distributions of the data generators.

Every case of the table raises a ``ValueError`` or ``TypeError`` whose
message names the argument (as a word: "X", "y", "Y", "alpha", "coverage",
"n_samples", "n_points", "sample_weight", "y_true", ...) and says what is
wrong with it. The table is built from lists of bad values crossed with the
methods that take them; ``test_the_table_counts_its_cases`` states its size.
"""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor
from skquantile import metrics as M
from skquantile.datasets import make_heteroscedastic, make_two_targets

FAST = {
    IncrementalQuantileRegressor: dict(
        max_epochs=1, hidden_layer_sizes=(4,), n_knots=4, random_state=0
    ),
    ConvexQuantileRegressor: dict(
        max_epochs=1,
        hidden_layer_sizes=(4,),
        potential_layer_sizes=(4,),
        n_energy_samples=2,
        random_state=0,
    ),
}
N_ROWS, N_QUERY = 20, 5
_rng = np.random.default_rng(0)
X_TRAIN = _rng.normal(size=(N_ROWS, 3))
Y_TRAIN = {1: _rng.normal(size=N_ROWS), 2: _rng.normal(size=(N_ROWS, 2))}
X_QUERY = X_TRAIN[:N_QUERY]

# Fitted models by key: estimator, and "2" for a two-column target.
MODEL_SPECS = {
    "iqr": (IncrementalQuantileRegressor, 1),
    "iqr2": (IncrementalQuantileRegressor, 2),
    "cqr": (ConvexQuantileRegressor, 1),
    "cqr2": (ConvexQuantileRegressor, 2),
}


@pytest.fixture(scope="module")
def models():
    fitted = {
        key: cls(**FAST[cls]).fit(X_TRAIN, Y_TRAIN[n_outputs])
        for key, (cls, n_outputs) in MODEL_SPECS.items()
    }
    # Unfitted estimators, for the cases that call fit.
    fitted.update(
        {f"new-{key}": cls(**FAST[cls]) for key, (cls, _) in MODEL_SPECS.items()}
    )
    _, _, fitted["truth"] = make_heteroscedastic(n_samples=5, n_features=3)
    _, _, fitted["truth2"] = make_two_targets(n_samples=5, n_features=3)
    return fitted


def _with_nan(array):
    array = np.array(array, dtype=float)
    array.flat[0] = np.nan
    return array


def _with_inf(array):
    array = np.array(array, dtype=float)
    array.flat[-1] = -np.inf
    return array


def _bad_arrays(array, name):
    """Bad versions of a valid numeric ``array`` (2-d for X): (id, value,
    error, problem regex)."""
    n_rows = len(array)
    cases = [
        ("inf", _with_inf(array), ValueError, "contains infinity"),
        ("empty", array[:0], ValueError, r"0 sample\(s\)"),
        ("numeric-strings", array.astype(str), ValueError, "array of strings"),
        (
            "words",
            np.full(array.shape, "a"),
            ValueError,
            "could not convert string to float",
        ),
        (
            "objects",
            np.array([object()] * array.size, dtype=object).reshape(array.shape),
            TypeError,
            r"float\(\) argument must be",
        ),
        ("complex", array + 1j, ValueError, "Complex data not supported"),
        ("none", None, ValueError, "got None"),
    ]
    if name != "X":
        # A sparse X is densified and a missing value in X is filled and
        # flagged (test_estimators.py); in the targets both are errors.
        sparse = sp.csr_matrix(array.reshape(n_rows, -1))
        cases.append(("sparse", sparse, TypeError, "Sparse data"))
        cases.append(("nan", _with_nan(array), ValueError, "contains NaN"))
    if name == "X":
        cases += [
            ("no-features", np.empty((n_rows, 0)), ValueError, r"0 feature\(s\)"),
            ("1d", array[:, 0], ValueError, "Expected 2D array"),
            ("3d", array[:, :, None], ValueError, "dim 3"),
            ("scalar", 5.0, ValueError, "Expected 2D array"),
        ]
    else:
        cases += [
            ("3d", array.reshape(n_rows, -1)[:, :, None], ValueError, "dim 3"),
            ("scalar", 0.5, TypeError, "at least 1 dimension"),
        ]
    return cases


CASES = []  # (id, model key, call, error, argument name, problem regex)


def _case(case_id, key, call, error, name, problem):
    CASES.append(pytest.param(key, call, error, name, problem, id=f"{key}-{case_id}"))


# %% fit: X, y and sample_weight

for key, (_, n_outputs) in MODEL_SPECS.items():
    new = f"new-{key}"
    y_train = Y_TRAIN[n_outputs]
    for case_id, X, error, problem in _bad_arrays(X_TRAIN, "X"):
        # An empty X comes with an empty y, so only X is wrong.
        y = y_train[: len(X)] if case_id == "empty" else y_train
        _case(
            f"fit-X-{case_id}",
            new,
            lambda model, X=X, y=y: model.fit(X, y),
            error,
            "X",
            problem,
        )
    for case_id, y, error, problem in _bad_arrays(y_train, "y"):
        if case_id == "none":
            problem = "requires y to be passed"
        _case(
            f"fit-y-{case_id}",
            new,
            lambda model, y=y: model.fit(X_TRAIN, y),
            error,
            "y",
            problem,
        )
    _case(
        "fit-y-no-columns",
        new,
        lambda model: model.fit(X_TRAIN, np.empty((N_ROWS, 0))),
        ValueError,
        "y",
        r"0 feature\(s\)",
    )
    _case(
        "fit-y-shorter-than-X",
        new,
        lambda model, y=y_train: model.fit(X_TRAIN, y[:-1]),
        ValueError,
        "y",
        f"X has {N_ROWS} rows and y has {N_ROWS - 1}",
    )
    weights = [
        ("negative", -np.ones(N_ROWS), ValueError, "Negative values"),
        ("all-zero", np.zeros(N_ROWS), ValueError, "positive sum, got all zeros"),
        ("scalar-zero", 0.0, ValueError, "positive sum, got all zeros"),
        ("nan", _with_nan(np.ones(N_ROWS)), ValueError, "contains NaN"),
        ("inf", _with_inf(np.ones(N_ROWS)), ValueError, "contains infinity"),
        ("scalar-nan", np.nan, ValueError, "contains NaN"),
        ("scalar-inf", np.inf, ValueError, "contains infinity"),
        ("shorter", np.ones(N_ROWS - 1), ValueError, "expected"),
        ("2d", np.ones((N_ROWS, 1)), ValueError, "1D array"),
        ("words", np.full(N_ROWS, "a"), ValueError, "could not convert"),
        ("numeric-strings", np.full(N_ROWS, "1.0"), ValueError, "strings"),
        ("complex", np.ones(N_ROWS) + 1j, ValueError, "Complex data"),
        ("sparse", sp.csr_matrix(np.ones((N_ROWS, 1))), TypeError, "Sparse data"),
    ]
    for case_id, weight, error, problem in weights:
        _case(
            f"fit-sample_weight-{case_id}",
            new,
            lambda model, y=y_train, w=weight: model.fit(X_TRAIN, y, sample_weight=w),
            error,
            "sample_weight",
            problem,
        )


# %% Query methods: X

QUERY_METHODS = {
    "iqr": {
        "predict": lambda m, X: m.predict(X),
        "predict_quantile": lambda m, X: m.predict_quantile(X, [0.1, 0.9]),
        "predict_interval": lambda m, X: m.predict_interval(X, 0.8),
        "predict_cdf": lambda m, X: m.predict_cdf(X, np.zeros(N_QUERY)),
        "sample": lambda m, X: m.sample(X, 3),
    },
    "iqr2": {
        "predict_quantile": lambda m, X: m.predict_quantile(X, 0.5),
        "predict_cdf": lambda m, X: m.predict_cdf(X, np.zeros((N_QUERY, 2))),
        "sample": lambda m, X: m.sample(X, 3),
    },
    "cqr": {
        "predict": lambda m, X: m.predict(X),
        "predict_quantile": lambda m, X: m.predict_quantile(X, [0.1, 0.9]),
        "predict_marginal_quantile": lambda m, X: m.predict_marginal_quantile(X, 0.5),
        "predict_interval": lambda m, X: m.predict_interval(X, 0.8),
        "predict_cdf": lambda m, X: m.predict_cdf(X, np.zeros(N_QUERY)),
        "sample": lambda m, X: m.sample(X, 3),
        "predict_region": lambda m, X: m.predict_region(X, 0.8),
        "region_contains": lambda m, X: m.region_contains(X, np.zeros(N_QUERY)),
    },
    "cqr2": {
        "predict": lambda m, X: m.predict(X),
        "predict_quantile": lambda m, X: m.predict_quantile(X, [0.3, 0.6]),
        "predict_marginal_quantile": lambda m, X: m.predict_marginal_quantile(
            X, 0.5, n_samples=10
        ),
        "predict_interval": lambda m, X: m.predict_interval(X, 0.8),
        "sample": lambda m, X: m.sample(X, 3),
        "predict_region": lambda m, X: m.predict_region(X, 0.8, n_points=8),
        "region_contains": lambda m, X: m.region_contains(X, np.zeros((N_QUERY, 2))),
    },
}

for key, methods in QUERY_METHODS.items():
    bad_X = _bad_arrays(X_QUERY, "X") + [
        ("4-features", np.zeros((N_QUERY, 4)), ValueError, "has 4 features.*3"),
    ]
    for method, call in methods.items():
        for case_id, X, error, problem in bad_X:
            _case(
                f"{method}-X-{case_id}",
                key,
                lambda model, X=X, call=call: call(model, X),
                error,
                "X",
                problem,
            )


# %% Query methods: alpha, coverage, n_samples, n_points

BAD_LEVELS = [
    ("zero", 0.0, "strictly inside"),
    ("one", 1.0, "strictly inside"),
    ("negative", -0.1, "strictly inside"),
    ("above-one", 1.5, "strictly inside"),
    ("nan", np.nan, "strictly inside.*nan"),
    ("inf", np.inf, "strictly inside"),
    ("nan-in-list", [0.2, np.nan], "strictly inside.*nan"),
    ("string", "0.5", "must be a number"),
    ("none", None, "must be a number"),
    ("complex", 0.5 + 0j, "must be a number"),
    ("bool", True, "must be a number"),
    ("empty", [], "at least one level"),
    ("2d", [[0.5]], "1-d array"),
]
for key in ("iqr", "iqr2", "cqr"):
    for case_id, alpha, problem in BAD_LEVELS:
        _case(
            f"predict_quantile-alpha-{case_id}",
            key,
            lambda model, a=alpha: model.predict_quantile(X_QUERY, a),
            ValueError,
            "alpha",
            problem,
        )
for key in ("cqr", "cqr2"):
    for case_id, alpha, problem in BAD_LEVELS:
        _case(
            f"predict_marginal_quantile-alpha-{case_id}",
            key,
            lambda model, a=alpha: model.predict_marginal_quantile(X_QUERY, a),
            ValueError,
            "alpha",
            problem,
        )
# Level vectors of a two-target convex model.
for case_id, alpha, problem in [
    ("scalar", 0.5, r"shape \(2,\)"),
    ("short-vector", [0.5], r"shape \(2,\)"),
    ("long-vector", [0.5, 0.5, 0.5], r"shape \(2,\)"),
    ("3d", np.full((1, 1, 2), 0.5), r"shape \(2,\)"),
    ("outside", [0.5, 1.0], "strictly inside"),
    ("nan", [[0.5, 0.5], [np.nan, 0.5]], "strictly inside.*nan"),
    ("strings", ["0.5", "0.5"], "must be a number"),
]:
    _case(
        f"predict_quantile-alpha-{case_id}",
        "cqr2",
        lambda model, a=alpha: model.predict_quantile(X_QUERY, a),
        ValueError,
        "alpha",
        problem,
    )

BAD_COVERAGES = [
    ("zero", 0.0, "strictly inside"),
    ("one", 1.0, "strictly inside"),
    ("negative", -0.5, "strictly inside"),
    ("above-one", 1.5, "strictly inside"),
    ("nan", np.nan, "strictly inside"),
    ("inf", np.inf, "strictly inside"),
    ("string", "0.9", "must be a number"),
    ("none", None, "must be a number"),
    ("list", [0.9], "must be a number"),
    ("bool", True, "must be a number"),
    ("complex", 0.9 + 0j, "must be a number"),
]
COVERAGE_METHODS = {
    "iqr": {"predict_interval": lambda m, c: m.predict_interval(X_QUERY, c)},
    "iqr2": {"predict_interval": lambda m, c: m.predict_interval(X_QUERY, c)},
    "cqr": {
        "predict_interval": lambda m, c: m.predict_interval(X_QUERY, c),
        "predict_region": lambda m, c: m.predict_region(X_QUERY, c),
        "region_contains": lambda m, c: m.region_contains(
            X_QUERY, np.zeros(N_QUERY), c
        ),
    },
    "cqr2": {
        "predict_interval": lambda m, c: m.predict_interval(X_QUERY, c),
        "predict_region": lambda m, c: m.predict_region(X_QUERY, c),
        "region_contains": lambda m, c: m.region_contains(
            X_QUERY, np.zeros((N_QUERY, 2)), c
        ),
    },
}
for key, methods in COVERAGE_METHODS.items():
    for method, call in methods.items():
        for case_id, coverage, problem in BAD_COVERAGES:
            _case(
                f"{method}-coverage-{case_id}",
                key,
                lambda model, c=coverage, call=call: call(model, c),
                ValueError,
                "coverage",
                problem,
            )

BAD_COUNTS = [
    ("zero", 0, ValueError, "at least 1"),
    ("negative", -3, ValueError, "at least 1"),
    ("fraction", 2.5, TypeError, "must be an integer"),
    ("integral-float", 2.0, TypeError, "must be an integer"),
    ("string", "3", TypeError, "must be an integer"),
    ("none", None, TypeError, "must be an integer"),
    ("bool", True, TypeError, "must be an integer"),
]
COUNT_METHODS = [
    ("iqr", "sample", "n_samples", lambda m, n: m.sample(X_QUERY, n)),
    ("iqr2", "sample", "n_samples", lambda m, n: m.sample(X_QUERY, n)),
    ("cqr", "sample", "n_samples", lambda m, n: m.sample(X_QUERY, n)),
    ("cqr2", "sample", "n_samples", lambda m, n: m.sample(X_QUERY, n)),
    (
        "cqr",
        "predict_marginal_quantile",
        "n_samples",
        lambda m, n: m.predict_marginal_quantile(X_QUERY, 0.5, n),
    ),
    (
        "cqr2",
        "predict_marginal_quantile",
        "n_samples",
        lambda m, n: m.predict_marginal_quantile(X_QUERY, 0.5, n),
    ),
    (
        "cqr",
        "predict_region",
        "n_points",
        lambda m, n: m.predict_region(X_QUERY, 0.9, n),
    ),
    (
        "cqr2",
        "predict_region",
        "n_points",
        lambda m, n: m.predict_region(X_QUERY, 0.9, n),
    ),
]
for key, method, name, call in COUNT_METHODS:
    for case_id, count, error, problem in BAD_COUNTS:
        _case(
            f"{method}-{name}-{case_id}",
            key,
            lambda model, n=count, call=call: call(model, n),
            error,
            name,
            problem,
        )


# %% Query methods: targets (predict_cdf's y, region_contains' Y)

TARGET_METHODS = [
    ("iqr", "predict_cdf", "y", 1, lambda m, y: m.predict_cdf(X_QUERY, y)),
    ("iqr2", "predict_cdf", "y", 2, lambda m, y: m.predict_cdf(X_QUERY, y)),
    ("cqr", "predict_cdf", "y", 1, lambda m, y: m.predict_cdf(X_QUERY, y)),
    ("cqr", "region_contains", "Y", 1, lambda m, y: m.region_contains(X_QUERY, y)),
    ("cqr2", "region_contains", "Y", 2, lambda m, y: m.region_contains(X_QUERY, y)),
]
for key, method, name, n_outputs, call in TARGET_METHODS:
    valid = np.zeros((N_QUERY, n_outputs)) if n_outputs == 2 else np.zeros(N_QUERY)
    bad = _bad_arrays(valid, name) + [
        ("shorter", valid[:-1], ValueError, "must have shape"),
        ("longer", np.concatenate([valid, valid[:1]]), ValueError, "must have shape"),
        ("extra-column", np.zeros((N_QUERY, 3)), ValueError, "must have shape"),
    ]
    if method == "predict_cdf":
        # F(-inf) = 0 and F(inf) = 1: tests/test_estimators.py.
        bad = [case for case in bad if case[0] != "inf"]
    if n_outputs == 1:
        bad.append(("as-column", valid[:, None], ValueError, "must have shape"))
    else:
        bad.append(("flattened", valid[:, 0], ValueError, "must have shape"))
    for case_id, y, error, problem in bad:
        _case(
            f"{method}-{name}-{case_id}",
            key,
            lambda model, y=y, call=call: call(model, y),
            error,
            name,
            problem,
        )


# %% Metrics (cases that tests/test_metrics.py does not already list)

_Y = np.array([0.0, 1.0, 2.0])
_Q = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
_Y2 = np.zeros((3, 2))
_S2 = np.zeros((3, 4, 2))
METRICS = {
    # name: (call(y_true, prediction, **kwargs), y_true, prediction, its name)
    "mean_pinball_loss": (
        lambda y, q, **k: M.mean_pinball_loss(y, q, [0.25, 0.75], **k),
        _Y,
        _Q,
        "y_quantiles",
    ),
    "crps_from_quantiles": (
        lambda y, q, **k: M.crps_from_quantiles(y, q, [0.25, 0.75], **k),
        _Y,
        _Q,
        "y_quantiles",
    ),
    "crps_from_samples": (M.crps_from_samples, _Y, np.zeros((3, 4)), "samples"),
    "calibration_error": (
        lambda y, q, **k: M.calibration_error(y, q, [0.25, 0.75], **k),
        _Y,
        _Q,
        "y_quantiles",
    ),
    "interval_coverage": (M.interval_coverage, _Y, _Q, "interval"),
    "interval_score": (
        lambda y, q, **k: M.interval_score(y, q, 0.5, **k),
        _Y,
        _Q,
        "interval",
    ),
    "energy_score": (M.energy_score, _Y2, _S2, "samples"),
    "variogram_score": (M.variogram_score, _Y2, _S2, "samples"),
}
for metric, (call, y_true, prediction, prediction_name) in METRICS.items():
    key = f"metric-{metric}"
    for case_id, value, error, problem in [
        ("empty", y_true[:0], ValueError, r"0 sample\(s\)"),
        ("complex", y_true + 1j, ValueError, "Complex data"),
        ("numeric-strings", y_true.astype(str), ValueError, "strings"),
        ("sparse", sp.csr_matrix(y_true.reshape(3, -1)), TypeError, "array-like"),
        ("shorter", y_true[:2], ValueError, "shape"),
    ]:
        _case(
            f"y_true-{case_id}",
            key,
            lambda model, v=value, c=call, p=prediction: c(v, p),
            error,
            "y_true",
            problem,
        )
    for case_id, value, error, problem in [
        ("complex", prediction + 1j, ValueError, "Complex data"),
        ("numeric-strings", prediction.astype(str), ValueError, "strings"),
        ("sparse", sp.csr_matrix(prediction.reshape(3, -1)), TypeError, "array-like"),
        ("longer", np.concatenate([prediction, prediction[:1]]), ValueError, "shape"),
    ]:
        _case(
            f"{prediction_name}-{case_id}",
            key,
            lambda model, v=value, c=call, y=y_true: c(y, v),
            error,
            prediction_name,
            problem,
        )
    for case_id, weight, error, problem in [
        ("negative", [1.0, -1.0, 1.0], ValueError, "Negative values"),
        ("all-zero", [0.0, 0.0, 0.0], ValueError, "positive sum"),
        ("nan", [1.0, np.nan, 1.0], ValueError, "NaN"),
        ("inf", [1.0, np.inf, 1.0], ValueError, "infinity"),
        ("shorter", [1.0, 1.0], ValueError, "expected"),
        ("2d", np.ones((3, 1)), ValueError, "1D array"),
        ("words", ["a", "b", "c"], ValueError, "could not convert"),
        ("complex", np.ones(3) + 1j, ValueError, "Complex data"),
        ("sparse", sp.csr_matrix(np.ones((3, 1))), TypeError, "array-like"),
    ]:
        _case(
            f"sample_weight-{case_id}",
            key,
            lambda model, w=weight, c=call, y=y_true, p=prediction: c(
                y, p, sample_weight=w
            ),
            error,
            "sample_weight",
            problem,
        )
for case_id, interval, error, problem in [
    ("empty", np.zeros((0, 2)), ValueError, r"0 sample\(s\)"),
    ("complex", np.zeros((3, 2)) + 1j, ValueError, "Complex data"),
    ("numeric-strings", np.zeros((3, 2)).astype(str), ValueError, "strings"),
    ("sparse", sp.csr_matrix(np.zeros((3, 2))), TypeError, "array-like"),
]:
    _case(
        f"interval-{case_id}",
        "metric-interval_width",
        lambda model, v=interval: M.interval_width(v),
        error,
        "interval",
        problem,
    )
for case_id, quantiles, error, problem in [
    ("empty", np.zeros((0, 2)), ValueError, r"0 sample\(s\)"),
    ("complex", _Q + 1j, ValueError, "Complex data"),
    ("sparse", sp.csr_matrix(_Q), TypeError, "array-like"),
]:
    _case(
        f"y_quantiles-{case_id}",
        "metric-quantile_crossing_rate",
        lambda model, v=quantiles: M.quantile_crossing_rate(v),
        error,
        "y_quantiles",
        problem,
    )


# %% Scorers: the data reaches the estimator and the metric

SCORERS = {
    "crps_scorer": (M.crps_scorer, "iqr"),
    "pinball_scorer": (M.pinball_scorer, "iqr"),
    "interval_scorer": (M.make_interval_scorer(0.8), "cqr"),
    "energy_scorer": (M.energy_scorer, "cqr2"),
    "variogram_scorer": (M.variogram_scorer, "cqr2"),
}
for scorer_name, (scorer, key) in SCORERS.items():
    n_outputs = MODEL_SPECS[key][1]
    y_true = Y_TRAIN[n_outputs][:N_QUERY]
    for case_id, args, kwargs, error, name, problem in [
        ("X-inf", (_with_inf(X_QUERY), y_true), {}, ValueError, "X", "infinity"),
        ("X-4-features", (np.zeros((5, 4)), y_true), {}, ValueError, "X", "4 features"),
        ("y_true-nan", (X_QUERY, _with_nan(y_true)), {}, ValueError, "y_true", "NaN"),
        ("y_true-shorter", (X_QUERY, y_true[:-1]), {}, ValueError, "y_true", "shape"),
        (
            "sample_weight-negative",
            (X_QUERY, y_true),
            {"sample_weight": -np.ones(N_QUERY)},
            ValueError,
            "sample_weight",
            "Negative",
        ),
        (
            "sample_weight-shorter",
            (X_QUERY, y_true),
            {"sample_weight": np.ones(2)},
            ValueError,
            "sample_weight",
            "expected",
        ),
    ]:
        _case(
            f"{scorer_name}-{case_id}",
            key,
            lambda model, s=scorer, a=args, k=kwargs: s(model, *a, **k),
            error,
            name,
            problem,
        )

for case_id, call, name, problem in [
    ("interval-coverage-nan", lambda: M.make_interval_scorer(np.nan), "coverage", ""),
    ("interval-coverage-bool", lambda: M.make_interval_scorer(True), "coverage", ""),
    ("crps-n_levels-negative", lambda: M.make_crps_scorer(-1), "n_levels", "range"),
    ("pinball-alpha-empty", lambda: M.make_pinball_scorer([]), "alpha", "at least one"),
    ("pinball-alpha-2d", lambda: M.make_pinball_scorer([[0.5]]), "alpha", "1-d"),
    ("energy-n_samples-negative", lambda: M.make_energy_scorer(-5), "n_samples", ""),
    ("energy-n_samples-fraction", lambda: M.make_energy_scorer(2.5), "n_samples", ""),
    (
        "variogram-n_samples-string",
        lambda: M.make_variogram_scorer("3"),
        "n_samples",
        "",
    ),
    ("midpoint_levels-n_levels-none", lambda: M.midpoint_levels(None), "n_levels", ""),
]:
    _case(
        f"factory-{case_id}",
        "none",
        lambda model, call=call: call(),
        ValueError,
        name,
        problem or "range|must be",
    )


# %% Known distributions of the data generators

for case_id, X, error, problem in _bad_arrays(X_QUERY, "X"):
    _case(
        f"truth-predict_quantile-X-{case_id}",
        "truth",
        lambda model, X=X: model.predict_quantile(X, 0.5),
        error,
        "X",
        problem,
    )
for case_id, y, error, problem in _bad_arrays(np.zeros(N_QUERY), "y"):
    _case(
        f"truth-predict_cdf-y-{case_id}",
        "truth",
        lambda model, y=y: model.predict_cdf(X_QUERY, y),
        error,
        "y",
        problem,
    )
for case_id, Y, error, problem in _bad_arrays(np.zeros((N_QUERY, 2)), "Y"):
    if case_id == "scalar":
        error, problem = ValueError, "Expected 2D array"
    _case(
        f"truth-region_contains-Y-{case_id}",
        "truth2",
        lambda model, Y=Y: model.region_contains(X_QUERY, Y, 0.9),
        error,
        "Y",
        problem,
    )


# %% The table


def _names(message, name):
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message) is not None


@pytest.mark.parametrize("key, call, error, name, problem", CASES)
def test_bad_input_raises_naming_the_argument(models, key, call, error, name, problem):
    with pytest.raises(error) as info:
        call(models.get(key))
    message = str(info.value)
    assert _names(message, name), f"{name!r} not named in: {message}"
    assert re.search(problem, message), f"{problem!r} not found in: {message}"


def test_the_table_counts_its_cases():
    """The table is generated; its size is pinned so that no case goes missing.
    (999 until a sparse X and a missing value in X became valid input: their
    cases went, 61 in all, and the five scorers gained an infinite X; 938
    until an infinite y became valid input of predict_cdf, three cases.)"""
    assert len(CASES) == 935


def test_a_failed_fit_leaves_the_model_unfitted_and_a_fitted_one_as_it_was(models):
    model = clone(models["iqr"])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.fit(_with_inf(X_TRAIN), Y_TRAIN[1])
    with pytest.raises(NotFittedError):
        model.predict(X_QUERY)
    model.fit(X_TRAIN, Y_TRAIN[1])
    before = model.predict(X_QUERY)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X_TRAIN[:, :2], Y_TRAIN[1], sample_weight=-np.ones(N_ROWS))
    assert model.n_features_in_ == 3
    np.testing.assert_array_equal(model.predict(X_QUERY), before)


UNFITTED_CALLS = {
    "predict": lambda m: m.predict(X_QUERY),
    "predict_quantile": lambda m: m.predict_quantile(X_QUERY, 0.5),
    "predict_interval": lambda m: m.predict_interval(X_QUERY),
    "predict_cdf": lambda m: m.predict_cdf(X_QUERY, np.zeros(N_QUERY)),
    "sample": lambda m: m.sample(X_QUERY),
    "score": lambda m: m.score(X_QUERY, np.zeros(N_QUERY)),
    "predict_marginal_quantile": lambda m: m.predict_marginal_quantile(X_QUERY, 0.5),
    "predict_region": lambda m: m.predict_region(X_QUERY),
    "region_contains": lambda m: m.region_contains(X_QUERY, np.zeros(N_QUERY)),
}


@pytest.mark.parametrize(
    "cls, method",
    [
        (cls, method)
        for cls in FAST
        for method in UNFITTED_CALLS
        if hasattr(cls, method)
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_every_query_method_of_an_unfitted_model_says_so(cls, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UNFITTED_CALLS[method](cls())


class _UnreadableData:
    """Data that fails the test if ``fit`` reads it."""

    def __array__(self, *args, **kwargs):
        raise AssertionError("fit read the data before checking its parameters")

    def __len__(self):
        raise AssertionError("fit read the data before checking its parameters")


@pytest.mark.parametrize(
    "cls, name",
    [
        (cls, name)
        for cls in (IncrementalQuantileRegressor, ConvexQuantileRegressor)
        for name in sorted(cls._parameter_constraints)
    ],
)
def test_every_invalid_parameter_fails_before_the_data_are_read(cls, name):
    """A value of no accepted type raises sklearn's InvalidParameterError naming
    the parameter, before ``fit`` reads X or y or builds anything from the
    parameters (``n_knots=None`` once failed inside numpy)."""
    model = cls(**{name: object()})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        model.fit(_UnreadableData(), _UnreadableData())
    assert not hasattr(model, "knot_levels_")


def test_no_knot_count_is_an_invalid_parameter():
    with pytest.raises(InvalidParameterError, match="'n_knots' parameter"):
        IncrementalQuantileRegressor(n_knots=None).fit(X_TRAIN, Y_TRAIN[1])


@pytest.mark.parametrize("cls", [IncrementalQuantileRegressor, ConvexQuantileRegressor])
def test_date_columns_of_a_data_frame_are_named(cls):
    """Dates and durations are refused by column name, with a fix, in fit
    and at prediction."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "a": np.arange(30.0),
            "when": pd.date_range("2020-01-01", periods=30, tz="UTC"),
            "lag": pd.to_timedelta(np.arange(30), "D"),
        }
    )
    match = r"'when' \(datetime64\[\w+, UTC\]\), 'lag' \(timedelta64\[\w+\]\).*days"
    with pytest.raises(ValueError, match=match):
        cls(max_epochs=1).fit(frame, np.arange(30.0))
    model = cls(max_epochs=1).fit(frame[["a"]], np.arange(30.0))
    with pytest.raises(ValueError, match="'a' .*dates or durations"):
        model.predict(frame[["a"]].astype("datetime64[ns]"))


def test_text_columns_of_a_data_frame_are_named():
    """A data frame with text or categorical columns that are not declared
    categorical: the error names the columns and says how to encode them."""
    import pandas as pd

    from skquantile import IncrementalQuantileRegressor

    frame = pd.DataFrame(
        {
            "name": ["Acinonyx", "Aotus", "Bos"] * 10,
            "order": pd.Categorical(["Carnivora", "Primates", "Artiodactyla"] * 10),
            "sleep": np.arange(30.0),
            "coded": np.array(["1", "2", "3"] * 10, dtype=object),
        }
    )
    none = IncrementalQuantileRegressor(max_epochs=1, categorical_features=None)
    with pytest.raises(
        ValueError, match=r"'name' \((object|str)\), 'order' \(category\)"
    ):
        none.fit(frame, np.arange(30.0))
    with pytest.raises(ValueError, match="categorical_features.*OneHotEncoder"):
        none.fit(frame[["order"]], np.ones(30))
    # Declaring some columns categorical leaves the others to be numbers.
    some = IncrementalQuantileRegressor(max_epochs=1, categorical_features=["name"])
    with pytest.raises(ValueError, match=r"column\(s\) 'order' \(category\)"):
        some.fit(frame, np.arange(30.0))
