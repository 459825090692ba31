"""Recipes of the user guide, run as written there."""

import numpy as np

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_heteroscedastic


def test_split_conformal_intervals_restore_coverage():
    # An over-confident model: 300 rows trained for 400 epochs.
    X, y, _ = make_heteroscedastic(n_samples=1300, random_state=0)
    X_fit, y_fit, X_cal, y_cal = X[:300], y[:300], X[300:], y[300:]
    X_test, y_test, _ = make_heteroscedastic(n_samples=5000, random_state=1)
    model = IncrementalQuantileRegressor(
        max_epochs=400, n_iter_no_change=1000, random_state=0
    ).fit(X_fit, y_fit)

    # The recipe of the user guide ("Conformal calibration of intervals").
    coverage = 0.9
    lower, upper = model.predict_interval(X_cal, coverage=coverage).T
    scores = np.maximum(lower - y_cal, y_cal - upper)
    n = len(scores)
    level = min(1.0, np.ceil((n + 1) * coverage) / n)
    margin = np.quantile(scores, level, method="higher")
    before = model.predict_interval(X_test, coverage=coverage)
    after = before + [-margin, margin]

    def covered(interval):
        return np.mean((interval[:, 0] <= y_test) & (y_test <= interval[:, 1]))

    assert covered(before) < 0.8  # measured 0.720
    assert abs(covered(after) - coverage) < 0.02  # measured 0.899
    assert margin > 0
