"""Behaviour both estimators share: seeding, weights, persistence, training
control and errors, run on each of them."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skquantile import ConvexQuantileRegressor
from skquantile.datasets import make_heteroscedastic


@pytest.fixture(scope="module")
def data():
    X, y, truth = make_heteroscedastic(n_samples=400, random_state=0)
    return X, y, truth


def test_constant_target_gives_constant_quantiles(make, data):
    X = data[0][:100]
    model = make().fit(X, np.full(100, 1234.5))
    quantiles = model.predict_quantile(X, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(quantiles, 1234.5, rtol=1e-8)


def test_pickle_round_trip_gives_identical_predictions(make, data):
    X, y, _ = data
    fitted = make().fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.predict_quantile(X, [0.1, 0.5]), fitted.predict_quantile(X, [0.1, 0.5])
    )
    np.testing.assert_array_equal(
        restored.sample(X, 3, random_state=0), fitted.sample(X, 3, random_state=0)
    )


def _global_numpy_state():
    return np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG)


def test_same_seed_same_model_and_global_rng_untouched(make, data):
    X, y, _ = data
    torch_state = torch.get_rng_state()
    numpy_state = _global_numpy_state()
    first = make().fit(X, y)
    second = clone(first).fit(X, y)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, _global_numpy_state())
    other = make(random_state=1).fit(X, y)
    assert not np.array_equal(first.predict(X), other.predict(X))


def test_row_order_does_not_matter(make, data):
    X, y, _ = data
    order = np.random.default_rng(0).permutation(len(X))
    first = make().fit(X, y)
    second = make().fit(X[order], y[order])
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_sample_weight_equals_repetition_and_removal(make, data):
    X, y, _ = data
    X, y = X[:60], y[:60]
    weight = np.random.default_rng(0).integers(0, 4, size=60)
    weighted = make().fit(X, y, sample_weight=weight)
    repeated = make().fit(np.repeat(X, weight, axis=0), np.repeat(y, weight))
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))


def test_sample_weight_moves_the_fit(make):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 1))
    y = np.where(np.arange(400) < 200, 0.0, 10.0) + rng.normal(0, 0.1, 400)
    weight = np.where(np.arange(400) < 200, 100.0, 1.0)
    # One network and 20 epochs put the medians near 0 and 5 (0.0 to 0.02 and
    # 4.6 to 5.1 over seeds 0-2, either estimator).
    params = dict(max_epochs=20, hidden_layer_sizes=(32,), n_members=1)
    model = make(**params).fit(X, y, sample_weight=weight)
    # About 99% of the weight is on the rows near 0: the median is there.
    assert np.median(model.predict(X)) < 1.0
    unweighted = make(**params).fit(X, y)
    assert np.median(unweighted.predict(X)) > 2.0


def test_pandas_and_float32_input(make, data):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"feature_{i}" for i in range(X.shape[1])])
    model = make().fit(frame, pd.Series(y))
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.predict(frame).shape == (len(X),)
    model32 = make().fit(X.astype(np.float32), y)
    assert model32.predict(X.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("early_stopping", [True, False])
def test_training_stops_and_keeps_the_best_epoch(make, data, early_stopping):
    X, y, _ = data
    model = make(
        max_epochs=30, early_stopping=early_stopping, n_iter_no_change=2, tol=10.0
    ).fit(X, y)
    # With an unreachable tol, training stops after 1 + n_iter_no_change epochs.
    assert model.n_iter_ == 3
    key = "valid_loss" if early_stopping else "train_loss"
    assert key in model.net_.history[-1]


@pytest.mark.parametrize(
    "n_rows, batch, epochs, patience",
    [
        # 8 steps an epoch: 1000 epochs (8000 steps, capped), patience 100.
        (264, 33, 1000, 100),
        # 27 steps an epoch: 297 epochs, patience 30.
        (6750, 256, 297, 30),
        # 391 steps an epoch: the minimum 20 epochs and 20 epochs of patience.
        (100_000, 256, 21, 20),
        (1_000_000, 256, 20, 20),
        # Fewer rows than the smallest automatic batch: one batch of all rows.
        (10, 10, 1000, 800),
    ],
)
def test_auto_training_sizes_follow_the_number_of_rows(n_rows, batch, epochs, patience):
    from skquantile import _plan

    assert _plan.resolve_batch_size("auto", n_rows) == batch
    assert _plan.resolve_max_epochs("auto", n_rows, batch) == epochs
    assert _plan.resolve_patience("auto", n_rows, batch) == patience
    # A higher floor (the incremental estimator's 40 epochs) only binds where
    # 800 steps are fewer epochs.
    floor = _plan.resolve_patience("auto", n_rows, batch, min_epochs=40)
    assert floor == max(40, patience)
    # Explicit sizes are kept, except that a batch holds at most all rows.
    assert _plan.resolve_batch_size(64, n_rows) == min(64, n_rows)
    assert _plan.resolve_max_epochs(7, n_rows, batch) == 7
    assert _plan.resolve_patience(5, n_rows, batch) == 5


def test_fitted_training_sizes(make, data):
    X, y, _ = data
    model = make(max_epochs=2).fit(X, y)
    # The sizes are resolved on the rows an epoch passes over: those left
    # after the validation split, or all rows for an ensemble, whose members
    # each give zero weight to rows of their own.
    ensemble = getattr(model, "n_members_", 1) > 1
    n_train = len(X) - (0 if ensemble else int(np.ceil(0.1 * len(X))))
    steps = int(np.ceil(n_train / model.batch_size_))
    assert model.batch_size_ == min(256, max(32, n_train // 8))
    steps_patience = int(np.ceil(800 / steps))
    if isinstance(model, ConvexQuantileRegressor):
        # The convex estimator waits 20 epochs for one target; for several,
        # at least 800 steps and 20 epochs (growing with the best epoch, which
        # is at most 2 here).
        assert model.n_iter_no_change_ == 20
        Y = np.column_stack([y, y + X[:, 0]])
        patience = max(20, steps_patience)
        assert make(max_epochs=2).fit(X, Y).n_iter_no_change_ == patience
    else:
        # The incremental estimator waits at least 40 epochs.
        assert model.n_iter_no_change_ == max(40, steps_patience)
    assert model.max_epochs_ == 2
    fixed = make(max_epochs=2, batch_size=16, n_iter_no_change=3).fit(X, y)
    assert (fixed.batch_size_, fixed.n_iter_no_change_) == (16, 3)
    if ensemble:
        single = make(max_epochs=2, n_members=1).fit(X, y)
        n_single = len(X) - int(np.ceil(0.1 * len(X)))
        assert single.batch_size_ == min(256, max(32, n_single // 8))


def test_tiny_data_trains_without_a_validation_split(make):
    model = make(early_stopping=True).fit([[0.0, 1.0]], [3.0])
    assert np.isfinite(model.predict_quantile([[0.0, 1.0]], [0.1, 0.9])).all()


def test_divergence_raises_a_clear_error(make, data):
    X, y, _ = data
    model = make(learning_rate_init=1e30)
    with pytest.raises(FloatingPointError, match="diverged.*learning_rate_init"):
        model.fit(X, y * 1e30)


def test_verbose_prints_the_epoch_table(make, data, capsys):
    X, y, _ = data
    make(max_epochs=2, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "dur" in captured.out
    assert "it/s" not in captured.err
    # verbose=2 adds a progress bar over the batches of each epoch.
    make(max_epochs=2, verbose=2, batch_size=50, early_stopping=False).fit(X, y)
    assert "/8" in capsys.readouterr().err  # 400 rows in batches of 50


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes"),
        ({"activation": "sigmoid"}, "activation"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"device": "not-a-device"}, "device"),
    ],
)
def test_parameter_errors(make, data, params, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        make(**params).fit(X[:20], y[:20])


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.zeros(20), "non-zero|positive sum"),
        (-np.ones(20), "[Nn]egative"),
        (np.full(20, np.nan), "NaN"),
        (np.ones(19), "sample_weight"),
    ],
)
def test_sample_weight_errors(make, data, sample_weight, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        make().fit(X[:20], y[:20], sample_weight)


@pytest.mark.parametrize("two_targets", [False, True])
def test_marginal_quantiles_and_intervals_of_independent_marginals_are_exact(
    two_targets, data
):
    """The incremental estimator's marginals are its quantile functions: its
    marginal quantiles are its quantiles, without draws, and its intervals are
    the quantiles at the two central levels."""
    from skquantile import IncrementalQuantileRegressor

    X, y, _ = data
    y = np.column_stack([y, -2.0 * y]) if two_targets else y
    model = IncrementalQuantileRegressor(
        max_epochs=2, hidden_layer_sizes=(8,), n_knots=8, n_members=1, random_state=0
    ).fit(X, y)
    levels = [0.1, 0.5, 0.9]
    np.testing.assert_array_equal(
        model.predict_marginal_quantile(X, levels, n_samples=1),
        model.predict_quantile(X, levels),
    )
    np.testing.assert_array_equal(
        model.predict_interval(X, coverage=0.8),
        model.predict_quantile(X, [(1 - 0.8) / 2, (1 + 0.8) / 2]),
    )


@pytest.mark.parametrize("joint", [False, True])
def test_predict_with_quantiles_through_a_pipeline(joint):
    """The quantile-forest convention: predict(X, quantiles=...), which a
    Pipeline forwards to its final step."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 2))
    y = X[:, 0] + rng.normal(size=120)
    cls = ConvexQuantileRegressor if joint else IncrementalQuantileRegressor
    estimator = cls(max_epochs=3, hidden_layer_sizes=(8,), random_state=0)
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X * 10, y)
    levels = [0.05, 0.5, 0.95]
    forwarded = pipeline.predict(X[:4] * 10, quantiles=levels)
    assert forwarded.shape == (4, 3)
    direct = estimator.predict_quantile(pipeline[0].transform(X[:4] * 10), levels)
    np.testing.assert_allclose(forwarded, direct)
    np.testing.assert_allclose(
        pipeline.predict(X[:4] * 10, quantiles=0.5), pipeline.predict(X[:4] * 10)
    )


@pytest.mark.parametrize("joint", [False, True])
def test_sparse_features_are_densified(joint):
    """A sparse X (one-hot encoders make it) fits and predicts as its dense
    copy does."""
    import scipy.sparse as sp

    from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor

    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(80, 4)) < 0.3).astype(float)
    y = X @ [1.0, -1.0, 2.0, 0.5] + rng.normal(size=80)
    cls = ConvexQuantileRegressor if joint else IncrementalQuantileRegressor
    params = {"max_epochs": 3, "hidden_layer_sizes": (8,), "random_state": 0}
    dense = cls(**params).fit(X, y)
    for sparse in (sp.csr_matrix(X), sp.csc_array(X)):
        model = cls(**params).fit(sparse, y)
        np.testing.assert_array_equal(
            model.predict_quantile(sparse, [0.1, 0.9]),
            dense.predict_quantile(X, [0.1, 0.9]),
        )


def test_missing_values_are_filled_and_flagged():
    """NaN in X: filled with the column's training mean and flagged by an
    indicator input, so the network can learn what missingness says."""
    from skquantile import IncrementalQuantileRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=400)
    missing = rng.uniform(size=400) < 0.25
    X[missing, 0] = np.nan
    y[missing] = 5.0 + 0.1 * rng.normal(size=missing.sum())  # missing means high
    model = IncrementalQuantileRegressor(
        max_epochs=60, hidden_layer_sizes=(32,), n_members=1, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(model._missing_columns, [0])
    median = model.predict(X)
    assert np.isfinite(median).all()
    assert np.median(np.abs(median[missing] - 5.0)) < 1.0
    assert np.median(np.abs(median[~missing] - y[~missing])) < 1.0
    # A missing value in a column that had none in training is filled with
    # the training mean, without an indicator.
    query = X[:5].copy()
    query[:, 1] = np.nan
    assert np.isfinite(model.predict_quantile(query, [0.1, 0.9])).all()


def test_missing_values_survive_saving(tmp_path):
    from skquantile import ConvexQuantileRegressor, load_model, save_model

    rng = np.random.RandomState(1)
    X = rng.normal(size=(100, 3))
    X[::7, 2] = np.nan
    Y = np.column_stack([X[:, 0], -X[:, 1]]) + rng.normal(size=(100, 2))
    model = ConvexQuantileRegressor(
        max_epochs=3, hidden_layer_sizes=(8,), random_state=0
    ).fit(X, Y)
    save_model(model, tmp_path / "model.skq")
    loaded = load_model(tmp_path / "model.skq")
    np.testing.assert_array_equal(loaded.predict(X[:10]), model.predict(X[:10]))


def test_cdf_at_infinite_targets_is_zero_or_one(make, data):
    """F(-inf) = 0 and F(inf) = 1; the finite entries beside them are what
    they are on their own (up to the rounding of the rows passed with them);
    NaN stays an error."""
    X, y, _ = data
    model = make().fit(X[:100], y[:100])
    values = np.array([-np.inf, 0.3, np.inf, -1.0])
    cdf = model.predict_cdf(X[:4], values)
    assert cdf[0] == 0.0 and cdf[2] == 1.0
    np.testing.assert_allclose(
        cdf[[1, 3]], model.predict_cdf(X[[1, 3]], values[[1, 3]]), rtol=1e-12
    )
    with pytest.raises(ValueError, match="y contains NaN"):
        model.predict_cdf(X[:4], np.array([np.nan, 0.0, np.inf, 1.0]))
