"""Interrupted and failed fits, determinism under parallel search, and
predicting from several threads."""

import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from skorch.callbacks import EarlyStopping
from skorch.history import History

from skquantile import ConvexQuantileRegressor, _plan, _training
from skquantile.datasets import make_heteroscedastic, make_two_targets
from skquantile.metrics import crps_scorer

FAST_OVERRIDES = dict(max_epochs=6)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=200, random_state=0)
    return X, y


def _interrupt_at_batch(monkeypatch, batch):
    """Make the training iterator raise KeyboardInterrupt at the given batch,
    as a Ctrl-C during fit would."""
    original = _training.TensorBatchIterator.__iter__
    seen = {"batches": 0}

    def interrupted(self):
        for item in original(self):
            seen["batches"] += 1
            if seen["batches"] == batch:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(_training.TensorBatchIterator, "__iter__", interrupted)


def test_interrupt_in_the_first_epoch_leaves_the_estimator_unfitted(
    make, data, monkeypatch
):
    X, y = data
    model = make(batch_size=50)  # 4 batches per epoch
    _interrupt_at_batch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert not hasattr(model, "n_features_in_")


def test_interrupt_in_the_first_epoch_of_a_refit_keeps_the_old_model(
    make, data, monkeypatch
):
    X, y = data
    model = make(batch_size=50).fit(X, y)
    before = model.predict_quantile(X, [0.1, 0.9])
    _interrupt_at_batch(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:100], y[:100] + 5.0)
    np.testing.assert_array_equal(model.predict_quantile(X, [0.1, 0.9]), before)


@pytest.mark.parametrize(
    "early_stopping, monitor", [(False, "train_loss"), (True, "valid_loss")]
)
def test_later_interrupt_keeps_the_best_complete_epoch(
    make, data, monkeypatch, early_stopping, monitor
):
    X, y = data
    model = make(batch_size=50, early_stopping=early_stopping)
    # 200 rows in batches of 50 make 4 training batches per epoch. With early
    # stopping, one network holds out 20 rows: 4 batches of its 180 training
    # rows and 1 validation batch. The members of an ensemble all train on
    # the 200 rows (each weighting out its own held-out rows), which are
    # scored outside the batch iterator: 4 batches.
    n_members = model.n_members
    if isinstance(model, ConvexQuantileRegressor) and n_members == "auto":
        n_members = 1  # "auto" is one convex network for one target
    ensemble = _plan.resolve_n_members(n_members, len(X)) > 1
    per_epoch = 5 if early_stopping and not ensemble else 4
    _interrupt_at_batch(monkeypatch, 3 * per_epoch + 2)  # in the fourth epoch
    # The interruption propagates (a loop or a search stops too), and the
    # estimator is fitted with its best complete epoch.
    with pytest.raises(KeyboardInterrupt, match="after 3 complete epoch"):
        model.fit(X, y)
    assert model.n_iter_ == 3
    assert all(monitor in row for row in model.net_.history)
    quantiles = model.predict_quantile(X, [0.05, 0.5, 0.95])
    assert np.isfinite(quantiles).all()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    if ensemble and early_stopping:
        # Every member gets back the weights of its own best complete epoch.
        stopper = dict(model.net_.callbacks_)["early_stopping"]
        history = np.array(model.net_.history[:, "valid_member_losses"])
        np.testing.assert_allclose(
            stopper._member_losses(model.net_), history.min(0), rtol=1e-5
        )
        return
    # skorch marks the best epoch, whose weights early stopping restores.
    losses = [row[monitor] for row in model.net_.history]
    assert model.net_.history[int(np.argmin(losses))][f"{monitor}_best"]


def test_failed_fit_leaves_a_fitted_estimator_unchanged(make, data):
    X, y = data
    model = make().fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, np.full_like(y, np.nan))  # missing targets are an error
    np.testing.assert_array_equal(model.predict(X), before)
    assert model.n_features_in_ == X.shape[1]


def test_grid_search_in_parallel_is_reproducible(make, data):
    X, y = data
    search = GridSearchCV(
        make(),
        {"max_epochs": [2, 4]},
        scoring=crps_scorer,
        cv=KFold(3, shuffle=True, random_state=0),
        n_jobs=2,
    )
    # Float32 training sums in an order that depends on torch's thread count,
    # so a serial search reproduces a parallel one with the thread count of
    # joblib's workers (loky gives each cpu_count // n_jobs threads). The
    # refit of the best candidate runs in this process, so it gets that
    # count too.
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, os.cpu_count() // 2))
    try:
        parallel = clone(search).fit(X, y)
        again = clone(search).fit(X, y)
        serial = clone(search).set_params(n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(threads)
    for other in (again, serial):
        np.testing.assert_array_equal(
            parallel.cv_results_["mean_test_score"],
            other.cv_results_["mean_test_score"],
        )
        np.testing.assert_array_equal(parallel.predict(X), other.predict(X))


def test_predicting_from_several_threads_is_safe(make, data):
    X, y = data
    model = make().fit(X, y)
    levels = [0.05, 0.5, 0.95]
    chunks = np.array_split(np.arange(len(X)), 16)
    # The same calls one after the other, then from 8 threads at once.
    expected = [model.predict_quantile(X[rows], levels) for rows in chunks]

    def predict(k):
        return k, model.predict_quantile(X[chunks[k]], levels)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(predict, list(range(len(chunks))) * 4))
    for k, quantiles in results:
        np.testing.assert_array_equal(quantiles, expected[k])
    # A row's prediction depends on the rows passed with it by rounding only.
    # Rounding errors scale with the size of the terms summed, not with the
    # result, so a quantile near zero gets an absolute tolerance in target
    # units (a quantile of -0.0026 differed by 3e-17).
    np.testing.assert_allclose(
        np.concatenate(expected),
        model.predict_quantile(X, levels),
        rtol=1e-14,
        atol=1e-14 * np.abs(y).max(),
    )


def test_grown_patience_is_growth_times_the_best_epoch_within_its_bounds():
    assert _training.grown_patience(20, 500, None, None) == 20
    assert _training.grown_patience(20, 3, 2, 60) == 20
    assert _training.grown_patience(20, 17, 2, 60) == 34
    assert _training.grown_patience(20, 400, 2, 60) == 60


def _stop_epoch(stopper, losses):
    """Drive an early-stopping callback over ``losses`` (one per epoch) and
    return the epoch at which it stops training, or ``None``."""
    net = SimpleNamespace(history=History(), module_=torch.nn.Linear(1, 1), verbose=0)
    stopper.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        try:
            stopper.on_epoch_end(net)
        except KeyboardInterrupt:
            return epoch
    return None


# Improves until epoch 30, then stays level until epoch 80 and improves again.
PLATEAU_LOSSES = np.r_[
    np.linspace(1.0, 0.5, 30), np.full(50, 0.5), 0.4, np.full(200, 0.4)
]


def test_progress_early_stopping_without_growth_is_skorchs_early_stopping():
    for losses in (PLATEAU_LOSSES, np.r_[np.linspace(1.0, 0.5, 5), np.full(50, 0.6)]):
        for patience in (5, 20, 60):
            options = dict(patience=patience, threshold=1e-4, threshold_mode="abs")
            ours = _training.ProgressEarlyStopping(**options)
            stop = _stop_epoch(ours, losses)
            assert stop == _stop_epoch(EarlyStopping(**options), losses)
            assert ours.stopped_ == (stop is not None)
            assert ours.patience_ == patience


def test_progress_early_stopping_waits_longer_after_a_late_best_epoch():
    options = dict(patience=20, threshold=1e-4, threshold_mode="abs")
    # After the best epoch 30 a fixed patience of 20 stops on the plateau.
    fixed = _training.ProgressEarlyStopping(**options)
    assert _stop_epoch(fixed, PLATEAU_LOSSES) == 50
    assert fixed.best_epoch_ == 30
    # Waiting twice the best epoch (60 epochs) leaves the plateau; after the
    # new best epoch 81 the wait is capped at 100.
    grown = _training.ProgressEarlyStopping(**options, growth=2, max_patience=100)
    assert _stop_epoch(grown, PLATEAU_LOSSES) == 181
    assert (grown.best_epoch_, grown.patience_, grown.stopped_) == (81, 100, True)
    # An early best epoch keeps the lower bound.
    early = _training.ProgressEarlyStopping(**options, growth=2, max_patience=100)
    assert _stop_epoch(early, np.r_[np.linspace(1.0, 0.5, 5), np.full(50, 0.6)]) == 25
    assert early.patience_ == 20


def test_convex_patience_grows_with_the_best_epoch_for_several_targets():
    """The auto patience of several targets grows with the best epoch.

    The patience under test is about 90 epochs at least, so the fits run for
    up to 150 epochs (a few seconds); small networks keep them cheap.
    """
    X, Y, _ = make_two_targets(n_samples=300, random_state=0)
    # One network (the several-target default is an ensemble, whose members
    # each keep their own best epoch: see the next test).
    options = dict(hidden_layer_sizes=(16,), potential_layer_sizes=(8,), n_members=1)
    model = ConvexQuantileRegressor(random_state=0, max_epochs=150, **options)
    model.fit(X, Y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    steps = int(np.ceil(len(X) * 0.9 / model.batch_size_))
    low = max(20, int(np.ceil(800 / steps)))
    high = max(20, int(np.ceil(2400 / steps)))
    assert stopper.patience == low
    assert model.n_iter_no_change_ == min(high, max(low, 2 * stopper.best_epoch_))
    assert stopper.stopped_ == (model.n_iter_ < 150)
    if stopper.stopped_:
        assert model.n_iter_ == stopper.best_epoch_ + model.n_iter_no_change_
    # One target: a fixed patience of 20 epochs.
    single = ConvexQuantileRegressor(random_state=0, max_epochs=150, **options)
    single.fit(X, Y[:, 0])
    assert single.n_iter_no_change_ == 20
    assert dict(single.net_.callbacks_)["early_stopping"].growth is None
    # A patience given as a number does not grow.
    fixed = ConvexQuantileRegressor(
        random_state=0, max_epochs=150, n_iter_no_change=7, **options
    ).fit(X, Y)
    assert fixed.n_iter_no_change_ == 7


def test_ensemble_members_each_wait_twice_their_own_best_epoch():
    """Each member of an ensemble waits twice its own best epoch.

    As above, the patience is about 90 epochs, so the fit runs for up to 150
    epochs (a few seconds).
    """
    X, Y, _ = make_two_targets(n_samples=300, random_state=0)
    model = ConvexQuantileRegressor(
        random_state=0,
        max_epochs=150,
        n_members=3,
        hidden_layer_sizes=(16,),
        potential_layer_sizes=(8,),
    ).fit(X, Y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    waits = [
        _training.grown_patience(stopper.patience, best, 2, stopper.max_patience)
        for best in stopper.best_epoch_
    ]
    assert model.n_iter_no_change_ == max(waits)
    if stopper.stopped_:
        # Training ends when the last member's own wait has run out.
        assert model.n_iter_ == max(
            best + wait for best, wait in zip(stopper.best_epoch_, waits, strict=True)
        )


def test_interrupt_stops_a_search_too(make, data, monkeypatch):
    """Ctrl-C in the first fit of a grid search stops the search: the next
    fit does not start."""
    from sklearn.model_selection import GridSearchCV

    X, y = data
    model = make(batch_size=50, early_stopping=False)
    fits = {"started": 0}
    original = _training.fit_network

    def counted(*args, **kwargs):
        fits["started"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(_training, "fit_network", counted)
    _interrupt_at_batch(monkeypatch, 4 + 2)  # in the second epoch of the first fit
    search = GridSearchCV(model, {"weight_decay": [0.0, 1e-4]}, cv=2, n_jobs=1)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    assert fits["started"] == 1
