"""Recipes of the user guide, run as written there."""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_heteroscedastic
from skquantile.metrics import crps_scorer


def test_split_conformal_intervals_restore_coverage():
    # An over-confident model: one network trained on 300 rows for 400 epochs
    # without early stopping (all training options are spelled out so that
    # the model does not change with the defaults). A statistical property, so
    # the fit is long (about 2.5 s); one network rather than the default five
    # overfits more and costs less (covered before/after: 0.56 to 0.61 and
    # 0.897 to 0.908 over seeds 0-3).
    X, y, _ = make_heteroscedastic(n_samples=1300, random_state=0)
    X_fit, y_fit, X_cal, y_cal = X[:300], y[:300], X[300:], y[300:]
    X_test, y_test, _ = make_heteroscedastic(n_samples=5000, random_state=1)
    model = IncrementalQuantileRegressor(
        max_epochs=400,
        batch_size=256,
        early_stopping=False,
        n_iter_no_change=1000,
        n_members=1,
        random_state=0,
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

    assert covered(before) < 0.8  # measured 0.588
    assert abs(covered(after) - coverage) < 0.02  # measured 0.908
    assert margin > 0


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread here and in the dask workers started meanwhile.

    The workers inherit these environment variables (dask sets them to 1 only
    where they are unset), so the test holds whatever the caller's
    environment. Starting a local cluster also writes dask's worker variables
    into this process's environment; all of them are restored afterwards.
    """
    saved_environment = dict(os.environ)
    saved_threads = torch.get_num_threads()
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved_threads)
    for name in set(os.environ) - set(saved_environment):
        del os.environ[name]
    os.environ.update(saved_environment)


def test_grid_search_on_a_dask_cluster_equals_a_serial_search(one_torch_thread):
    distributed = pytest.importorskip("distributed")
    from dask.distributed import Client, LocalCluster

    X, y, _ = make_heteroscedastic(n_samples=150, random_state=0)
    search = GridSearchCV(
        IncrementalQuantileRegressor(
            max_epochs=3, hidden_layer_sizes=(8,), random_state=0
        ),
        param_grid={"n_knots": [4, 8]},
        scoring=crps_scorer,
        cv=KFold(n_splits=3, shuffle=True, random_state=0),
    )
    serial = clone(search).fit(X, y)

    # The recipe of the user guide ("Grid search on a dask cluster"); the task
    # stream records the tasks the scheduler ran.
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    with cluster, Client(cluster), joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream() as tasks:
            search.fit(X, y)

    assert len(tasks.data) > 0
    results = search.cv_results_
    assert search.best_params_["n_knots"] in (4, 8)
    for fold in range(3):
        assert np.isfinite(results[f"split{fold}_test_score"]).all()
        # One torch thread on both sides: the fits are identical, not close.
        np.testing.assert_array_equal(
            results[f"split{fold}_test_score"],
            serial.cv_results_[f"split{fold}_test_score"],
        )
    assert search.best_params_ == serial.best_params_
    np.testing.assert_array_equal(search.predict(X), serial.predict(X))


def test_readme_example_fits_a_frame_through_a_pipeline():
    """The README's example: a data frame with a text column and missing
    values, a ColumnTransformer with a OneHotEncoder at its defaults (sparse
    output) and the numeric column passed through with its missing values
    (the estimator fills and flags them), then quantiles through the
    pipeline's predict.
    (Trained for a few epochs here; the README uses the defaults.)"""
    import pandas as pd
    import scipy.sparse as sp
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skquantile import IncrementalQuantileRegressor

    rng = np.random.default_rng(0)
    sales = pd.DataFrame(
        {
            "store": rng.choice([f"store {k}" for k in range(10)], 500),
            "price": rng.uniform(1.0, 3.0, 500),
        }
    )
    sales.loc[::25, "price"] = np.nan
    demand = (
        10
        - 2 * sales["price"].fillna(2)
        + (sales["store"] == "store 0")
        + rng.normal(size=500)
    )
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["store"]), remainder="passthrough"),
        IncrementalQuantileRegressor(max_epochs=5, random_state=0),
    )
    # Ten stores one-hot encoded make a sparse matrix (density below 0.3).
    assert sp.issparse(model[0].fit_transform(sales))
    model.fit(sales, demand)
    quantiles = model.predict(sales[:3], quantiles=[0.05, 0.5, 0.94, 0.95])
    assert quantiles.shape == (3, 4)
    assert np.all(np.diff(quantiles, axis=1) > 0)
    # The README's next sentence: the frame also fits without the pipeline.
    direct = IncrementalQuantileRegressor(max_epochs=5, random_state=0)
    direct.fit(sales, demand)
    np.testing.assert_array_equal(direct._categorical_columns, [0])
    assert direct.predict(sales[:3], quantiles=[0.05, 0.95]).shape == (3, 2)
