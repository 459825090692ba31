"""Conformal calibration: the level maps, the meta-estimator, its guarantee."""

import re
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skquantile import (
    CalibratedQuantileRegressor,
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
)
from skquantile._conformal import LevelMap, effective_weights
from skquantile._plan import held_out_rows

SMALL = {"hidden_layer_sizes": (16,), "random_state": 0}


def small_incremental(**params):
    return IncrementalQuantileRegressor(
        **{**SMALL, "n_knots": 8, "max_epochs": 20, **params}
    )


def small_convex(**params):
    return ConvexQuantileRegressor(
        **{
            **SMALL,
            "potential_layer_sizes": (8, 8),
            "n_energy_samples": 8,
            "max_epochs": 20,
            **params,
        }
    )


def heteroscedastic(n, rng, n_features=2):
    X = rng.uniform(-2, 2, size=(n, n_features))
    y = X[:, 0] + (0.3 + 0.5 * np.abs(X[:, 1])) * rng.standard_normal(n)
    return X, y


# -- the level maps ------------------------------------------------------------


def test_level_maps_bracket_the_conformal_ranks():
    """upper(a) is at least the score of rank ceil((n + 1) a) and lower(a) at
    most the score of rank floor((n + 1) a) + 1, at every level the ranks
    certify; both are increasing maps of [0, 1] onto itself."""
    rng = np.random.RandomState(0)
    scores = rng.beta(2.0, 5.0, size=37)
    level_map = LevelMap(scores, np.ones(37))
    ordered = np.sort(scores)
    n = len(scores)
    levels = np.linspace(1 / (n + 1), n / (n + 1), 2001)
    upper_rank = np.ceil((n + 1) * levels - 1e-9).astype(int)
    assert np.all(level_map.upper(levels) >= ordered[upper_rank - 1])
    lower_rank = np.floor((n + 1) * levels + 1e-9).astype(int) + 1
    inside = lower_rank <= n
    assert np.all(
        level_map.lower(levels[inside]) <= ordered[lower_rank[inside] - 1] + 1e-15
    )
    grid = np.linspace(0, 1, 501)
    for mapped in (level_map.upper(grid), level_map.lower(grid)):
        assert np.all(np.diff(mapped) >= 0)
        assert mapped[0] < 1e-300 and mapped[-1] > 1 - 1e-15
    assert level_map.certified == pytest.approx((1 / (n + 1), n / (n + 1)))
    assert np.allclose(level_map.inverse_upper(level_map.upper(levels)), levels)


def test_level_map_of_uniform_scores_is_close_to_identity():
    scores = (np.arange(1, 2000) - 0.5) / 1999
    level_map = LevelMap(scores, np.ones_like(scores))
    levels = np.linspace(0.01, 0.99, 99)
    assert np.allclose(level_map.upper(levels), levels, atol=2e-3)
    assert np.allclose(level_map.lower(levels), levels, atol=2e-3)
    assert np.all(level_map.upper(levels) >= level_map.lower(levels))


def test_weights_count_as_repeated_rows():
    """A score of weight two maps like the same score given twice."""
    scores = np.array([0.1, 0.3, 0.35, 0.8])
    weighted = LevelMap(scores, effective_weights([2.0, 1.0, 1.0, 1.0]))
    repeated = LevelMap(np.array([0.1, 0.1, 0.3, 0.35, 0.8]), np.ones(5))
    levels = np.linspace(0.05, 0.95, 19)
    # Weights are read relative to each other: the weighted map's total is
    # the effective number of rows, 25 / 7 here, not 5.
    assert effective_weights([2.0, 1.0, 1.0, 1.0]).sum() == pytest.approx(25 / 7)
    assert effective_weights([3.0, 3.0, 3.0]) == pytest.approx([1.0, 1.0, 1.0])
    same_total = LevelMap(scores, np.array([2.0, 1.0, 1.0, 1.0]))
    assert np.allclose(same_total.upper(levels), repeated.upper(levels))
    assert np.allclose(same_total.lower(levels), repeated.lower(levels))
    assert np.all(np.diff(weighted.upper(levels)) >= 0)


# -- the guarantee -------------------------------------------------------------


def _coverage_runs(mode, n_runs=40, levels=(0.1, 0.5, 0.9)):
    """Share of test rows at or below the quantile at each level, per run of
    a deliberately poor model (two epochs) on fresh exchangeable data: 300
    rows to fit and calibrate on, 100 to test.

    ``mode`` is ``"raw"`` (the model fitted on 200 rows, uncalibrated),
    ``"prefit"`` (that model calibrated on the other 100) or ``"members"``
    (one network fitted on all 300 rows, holding out a third of them, and
    calibrated on those)."""
    shares = []
    for run in range(n_runs):
        rng = np.random.RandomState(run)
        X, y = heteroscedastic(400, rng)
        fit, calibration, test = slice(0, 200), slice(200, 300), slice(300, 400)
        if mode == "members":
            model = CalibratedQuantileRegressor(
                small_incremental(
                    max_epochs=2,
                    n_members=1,
                    validation_fraction=1 / 3,
                    random_state=run,
                ),
                cv="members",
            ).fit(X[:300], y[:300])
        else:
            model = small_incremental(
                max_epochs=2, n_members=1, early_stopping=False, random_state=run
            ).fit(X[fit], y[fit])
            if mode == "prefit":
                model = CalibratedQuantileRegressor(model, cv="prefit").fit(
                    X[calibration], y[calibration]
                )
        quantiles = model.predict_quantile(X[test], np.array(levels))
        shares.append((y[test, None] <= quantiles).mean(axis=0))
    return np.array(shares)


@pytest.mark.parametrize("mode", ["prefit", "members"])
def test_conformal_guarantee_holds_for_a_poor_model(mode):
    """Forty runs on exchangeable data, a model trained for two epochs, 100
    calibration rows: the share below the recalibrated quantile at level a
    averages at least a minus three standard errors at every level, and at
    most the finite-sample upper bound a + 2 / (n + 1) plus three standard
    errors (the map is not merely wide). The uncalibrated model fails the
    same check: after two epochs its spread is far from the data's.

    A statistical test of the guarantee needs many fits; two-epoch fits of a
    small network keep them to a few seconds in all."""
    levels = np.array([0.1, 0.5, 0.9])
    n_calibration = 100
    calibrated = _coverage_runs(mode)
    mean = calibrated.mean(axis=0)
    error = calibrated.std(axis=0, ddof=1) / np.sqrt(len(calibrated))
    assert np.all(mean >= levels - 3 * error), (mean, error)
    assert np.all(mean <= levels + 2 / (n_calibration + 1) + 3 * error), (mean, error)


def test_the_poor_model_fails_the_guarantee_uncalibrated():
    """The check of the test above, on the same runs without calibration."""
    levels = np.array([0.1, 0.5, 0.9])
    raw = _coverage_runs("raw")
    mean = raw.mean(axis=0)
    error = raw.std(axis=0, ddof=1) / np.sqrt(len(raw))
    assert np.any(mean < levels - 3 * error), (mean, error)


# -- where the calibration rows come from --------------------------------------


def test_members_scores_are_the_held_out_rows_of_the_fit():
    """With one network the calibration rows are its validation rows, scored
    by the network; in an ensemble a row held out by one member is scored by
    that member alone."""
    rng = np.random.RandomState(1)
    X, y = heteroscedastic(300, rng)
    single = CalibratedQuantileRegressor(small_incremental(n_members=1)).fit(X, y)
    assert single.cv_ == "members"  # "auto": one network calibrates on its own
    estimator = single.estimator_
    rows = held_out_rows(
        X,
        y[:, None],
        np.ones(len(y)),
        estimator.get_params(),
        estimator.n_members_,
        estimator._fit_seed,
    )
    X_held, y_held = rows[0], rows[1][:, 0]
    assert len(X_held) == 30  # validation_fraction=0.1 of 300 rows
    assert np.allclose(
        single.calibration_scores_[:, 0], estimator.predict_cdf(X_held, y_held)
    )

    ensemble = CalibratedQuantileRegressor(
        small_incremental(n_members=3), cv="members"
    ).fit(X, y)
    estimator = ensemble.estimator_
    X_held, Y_held, _, held_out = held_out_rows(
        X,
        y[:, None],
        np.ones(len(y)),
        estimator.get_params(),
        3,
        estimator._fit_seed,
    )
    assert len(ensemble.calibration_scores_) == len(X_held)
    by_one = np.flatnonzero(held_out.sum(axis=1) == 1)
    row = by_one[0]
    member = np.flatnonzero(held_out[row])[0]
    features = (X_held[row : row + 1] - estimator._x_mean) / estimator._x_scale
    alone = estimator._pooled_cdf(
        features,
        (Y_held[row : row + 1] - estimator._y_mean) / estimator._y_scale,
        [member],
    )
    assert ensemble.calibration_scores_[row, 0] == pytest.approx(alone[0, 0])
    pooled = estimator.predict_cdf(X_held[row : row + 1], Y_held[row])
    assert alone[0, 0] != pytest.approx(pooled[0], abs=1e-6)


def test_members_scores_add_no_fit():
    """cv="members" fits the estimator once, as it would be fitted alone."""
    rng = np.random.RandomState(2)
    X, y = heteroscedastic(200, rng)
    alone = small_incremental(n_members=2).fit(X, y)
    calibrated = CalibratedQuantileRegressor(
        small_incremental(n_members=2), cv="members"
    ).fit(X, y)
    assert np.array_equal(
        calibrated.estimator_.predict_quantile(X[:5], [0.1, 0.9]),
        alone.predict_quantile(X[:5], [0.1, 0.9]),
    )


def test_auto_cross_fits_an_ensemble():
    """An ensemble's members' held-out rows would calibrate it conservatively
    (a row is scored by one or two members, the prediction pools all), so
    "auto" cross-fits it; one network calibrates on its own held-out rows."""
    rng = np.random.RandomState(15)
    X, y = heteroscedastic(100, rng)
    ensemble = CalibratedQuantileRegressor(small_incremental(n_members="auto"))
    assert ensemble.fit(X, y).cv_ == 5
    assert ensemble.calibration_scores_.shape == (100, 1)
    single = CalibratedQuantileRegressor(small_incremental(early_stopping=False))
    assert single.set_params(estimator__n_members=1).fit(X, y).cv_ == 5
    held_out = CalibratedQuantileRegressor(small_incremental(n_members=1))
    assert held_out.fit(X, y).cv_ == "members"


def test_cross_fitting_scores_every_row_once():
    rng = np.random.RandomState(3)
    X, y = heteroscedastic(120, rng)
    model = CalibratedQuantileRegressor(small_incremental(n_members=1), cv=3).fit(X, y)
    assert model.calibration_scores_.shape == (120, 1)
    assert np.allclose(model.calibration_weights_, 1.0)
    assert model.estimator_.n_features_in_ == 2


def test_cross_fitting_in_parallel_gives_the_same_model():
    """The folds' fits and the final fit run as joblib processes with
    ``n_jobs=2``: a seeded estimator gives the same scores, the same final
    fit and the same calibrated quantiles as one fit at a time."""
    rng = np.random.RandomState(4)
    X, y = heteroscedastic(90, rng)
    estimator = small_incremental(n_members=2, max_epochs=5)
    one = CalibratedQuantileRegressor(estimator, cv=3).fit(X, y)
    two = CalibratedQuantileRegressor(estimator, cv=3, n_jobs=2).fit(X, y)
    assert np.array_equal(one.calibration_scores_, two.calibration_scores_)
    levels = np.array([0.05, 0.5, 0.95])
    assert np.array_equal(
        one.predict_quantile(X[:10], levels), two.predict_quantile(X[:10], levels)
    )
    assert np.array_equal(
        one.estimator_.predict(X[:10]), two.estimator_.predict(X[:10])
    )


def test_cross_fitting_folds_train_the_final_fits_kind_of_model(monkeypatch):
    """Automatic sizes that follow the number of rows would resolve
    differently on the folds' fewer rows; the folds take the final fit's
    ensemble and batch sizes instead, and the user's estimator keeps its
    "auto"."""
    from skquantile import _conformal, _plan

    # 400 rows: 1000 // 400 = 2 networks and batches of 400 // 8 = 50; the
    # folds' 320 rows alone would give 3 networks and batches of 40.
    monkeypatch.setattr(_plan, "AUTO_MEMBER_ROWS", 1000)
    kinds = []
    score_fold = _conformal._fit_and_score_fold

    def spy(estimator, *args):
        scored = score_fold(estimator, *args)
        kinds.append((estimator.n_members_, estimator.batch_size_))
        return scored

    monkeypatch.setattr(_conformal, "_fit_and_score_fold", spy)
    X, y = heteroscedastic(400, np.random.RandomState(5))
    estimator = small_incremental(n_members="auto", max_epochs=2)
    model = CalibratedQuantileRegressor(estimator, cv=5).fit(X, y)
    assert (model.estimator_.n_members_, model.estimator_.batch_size_) == (2, 50)
    assert kinds == [(2, 50)] * 5
    assert model.estimator.n_members == model.estimator.batch_size == "auto"
    # Sizes set by the user are theirs, and a pipeline's last step is matched.
    pipeline = make_pipeline(StandardScaler(), small_incremental(batch_size=64))
    fitted = clone(pipeline).fit(X, y)
    like = _conformal._like_final_fit(pipeline, fitted)
    assert like[-1].get_params()["batch_size"] == 64
    assert like[-1].get_params()["n_members"] == 2
    assert pipeline[-1].n_members == "auto"


def test_prefit_and_frozen_estimators_are_not_refitted():
    from sklearn.frozen import FrozenEstimator

    rng = np.random.RandomState(4)
    X, y = heteroscedastic(200, rng)
    estimator = small_incremental(n_members=1).fit(X[:100], y[:100])
    before = estimator.predict_quantile(X[:3], 0.5)
    prefit = CalibratedQuantileRegressor(estimator, cv="prefit").fit(X[100:], y[100:])
    assert prefit.estimator_ is estimator
    assert np.array_equal(estimator.predict_quantile(X[:3], 0.5), before)
    assert prefit.calibration_scores_.shape == (100, 1)
    frozen = CalibratedQuantileRegressor(FrozenEstimator(estimator)).fit(
        X[100:], y[100:]
    )
    assert np.allclose(frozen.predict(X[:5]), prefit.predict(X[:5]))
    # Ways of calibrating that fit the estimator do not apply to a frozen one.
    for cv in ("members", 3):
        with pytest.raises(ValueError, match="FrozenEstimator is used as it is"):
            CalibratedQuantileRegressor(FrozenEstimator(estimator), cv=cv).fit(
                X[100:], y[100:]
            )


def test_sample_weight_zero_rows_do_not_calibrate():
    rng = np.random.RandomState(5)
    X, y = heteroscedastic(200, rng)
    estimator = small_incremental(n_members=1).fit(X[:100], y[:100])
    weight = np.r_[np.ones(60), np.zeros(40)]
    weighted = CalibratedQuantileRegressor(estimator, cv="prefit").fit(
        X[100:], y[100:], sample_weight=weight
    )
    dropped = CalibratedQuantileRegressor(estimator, cv="prefit").fit(
        X[100:160], y[100:160]
    )
    assert np.allclose(
        weighted.predict_quantile(X[:4], [0.2, 0.8]),
        dropped.predict_quantile(X[:4], [0.2, 0.8]),
    )


# -- what the recalibrated model answers ----------------------------------------


@pytest.fixture(scope="module")
def calibrated_incremental():
    rng = np.random.RandomState(6)
    X, y = heteroscedastic(300, rng)
    model = CalibratedQuantileRegressor(small_incremental(n_members=2), cv="members")
    return model.fit(X, y), X


def test_quantile_and_cdf_invert_each_other(calibrated_incremental):
    model, X = calibrated_incremental
    levels = np.array([0.02, 0.3, 0.5, 0.77, 0.98])
    quantiles = model.predict_quantile(X[:20], levels)
    assert np.all(np.diff(quantiles, axis=1) > 0)
    for k, level in enumerate(levels):
        assert np.allclose(model.predict_cdf(X[:20], quantiles[:, k]), level)
    assert np.allclose(model.predict(X[:20]), quantiles[:, 2])
    assert model.predict_quantile(X[:20], 0.3).shape == (20,)


def test_quantiles_are_the_estimators_at_mapped_levels(calibrated_incremental):
    model, X = calibrated_incremental
    level_map = LevelMap(model.calibration_scores_[:, 0], model.calibration_weights_)
    levels = np.array([0.1, 0.9])
    assert np.allclose(
        model.predict_quantile(X[:7], levels),
        model.estimator_.predict_quantile(X[:7], level_map.upper(levels)),
    )


def test_interval_ends_are_read_from_their_own_side(calibrated_incremental):
    model, X = calibrated_incremental
    level_map = LevelMap(model.calibration_scores_[:, 0], model.calibration_weights_)
    interval = model.predict_interval(X[:9], coverage=0.8)
    assert interval.shape == (9, 2)
    assert np.allclose(
        interval[:, 0], model.estimator_.predict_quantile(X[:9], level_map.lower(0.1))
    )
    assert np.allclose(interval[:, 1], model.predict_quantile(X[:9], 0.9))


def test_samples_follow_the_recalibrated_distribution(calibrated_incremental):
    model, X = calibrated_incremental
    draws = model.sample(X[:2], 4000, random_state=0)
    assert draws.shape == (2, 4000)
    for row in range(2):
        pit = model.predict_cdf(np.repeat(X[row : row + 1], 4000, axis=0), draws[row])
        assert stats.kstest(pit, "uniform").pvalue > 1e-3


def test_uncertified_interval_warns(calibrated_incremental):
    model, X = calibrated_incremental
    n = len(model.calibration_scores_)
    with pytest.warns(UserWarning, match="certifies levels"):
        model.predict_interval(X[:2], coverage=1 - 1 / (4 * n))
    # Quantiles beyond the certified levels warn as well, at either end.
    # The warning names the uncertified levels only.
    for level in (1 / (4 * n), 1 - 1 / (4 * n)):
        expected = f"only; levels {level:.4g} are beyond"
        with pytest.warns(UserWarning, match=re.escape(expected)):
            model.predict_quantile(X[:2], [0.5, level])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict_quantile(X[:2], [0.5, 0.9])


def test_several_independent_targets_are_calibrated_one_by_one():
    rng = np.random.RandomState(7)
    X, y = heteroscedastic(300, rng)
    Y = np.column_stack([y, 3 * y + rng.standard_normal(300)])
    model = CalibratedQuantileRegressor(small_incremental(n_members=1)).fit(X, Y)
    assert model.calibration_scores_.shape == (30, 2)
    quantiles = model.predict_quantile(X[:5], [0.25, 0.75])
    assert quantiles.shape == (5, 2, 2)
    for j in range(2):
        level_map = LevelMap(
            model.calibration_scores_[:, j], model.calibration_weights_
        )
        assert np.allclose(
            quantiles[:, j],
            model.estimator_.predict_quantile(X[:5], level_map.upper([0.25, 0.75]))[
                :, j
            ],
        )
    assert model.predict_cdf(X[:5], Y[:5]).shape == (5, 2)
    assert model.sample(X[:5], 3).shape == (5, 3, 2)
    assert model.predict_interval(X[:5]).shape == (5, 2, 2)


def test_pipelines_are_calibrated_through_their_last_step():
    rng = np.random.RandomState(8)
    X, y = heteroscedastic(200, rng)
    pipeline = make_pipeline(StandardScaler(), small_incremental(n_members=1))
    model = CalibratedQuantileRegressor(pipeline).fit(X * 100, y)
    assert model.predict_quantile(X[:3] * 100, [0.1, 0.9]).shape == (3, 2)
    assert model.n_features_in_ == 2
    weighted = CalibratedQuantileRegressor(pipeline).fit(
        X * 100, y, sample_weight=np.ones(200)
    )
    assert np.allclose(weighted.predict(X[:3] * 100), model.predict(X[:3] * 100))


# -- joint regions ----------------------------------------------------------------


@pytest.fixture(scope="module")
def calibrated_convex():
    rng = np.random.RandomState(9)
    X, y = heteroscedastic(300, rng)
    Y = np.column_stack([y, y + 0.5 * rng.standard_normal(300)])
    model = CalibratedQuantileRegressor(small_convex(n_members=2), cv="members")
    return model.fit(X, Y), X, Y


def test_joint_regions_use_the_calibrated_radius(calibrated_convex):
    model, X, Y = calibrated_convex
    assert model.calibration_scores_.shape[1] == 1
    level_map = LevelMap(model.calibration_scores_[:, 0], model.calibration_weights_)
    mapped = level_map.upper(0.7)
    assert np.array_equal(
        model.region_contains(X, Y, coverage=0.7),
        model.estimator_.region_contains(X, Y, coverage=mapped),
    )
    assert np.allclose(
        model.predict_region(X[:3], coverage=0.7, n_points=16),
        model.estimator_.predict_region(X[:3], coverage=mapped, n_points=16),
    )
    # The median is the image of the origin, which the radius map keeps.
    assert np.allclose(model.predict(X[:4]), model.estimator_.predict(X[:4]))


def test_joint_draws_follow_the_calibrated_radius(calibrated_convex):
    """The share of recalibrated draws inside the recalibrated region of
    coverage c is c: the draws and the regions are one distribution."""
    model, X, _ = calibrated_convex
    rows = np.repeat(X[:1], 3000, axis=0)
    draws = model.sample(X[:1], 3000, random_state=0)[0]
    inside = model.region_contains(rows, draws, coverage=0.6)
    assert abs(inside.mean() - 0.6) < 4 * np.sqrt(0.24 / 3000)
    assert model.predict_quantile(X[:3], [0.5, 0.5]).shape == (3, 2)
    assert model.predict_interval(X[:3]).shape == (3, 2, 2)


def test_convex_single_target_is_calibrated_by_levels():
    rng = np.random.RandomState(10)
    X, y = heteroscedastic(300, rng)
    model = CalibratedQuantileRegressor(small_convex(n_members=1)).fit(X, y)
    interval = model.predict_interval(X[:6], 0.8)
    assert np.allclose(model.predict_region(X[:6], 0.8), interval)
    inside = model.region_contains(X, y, 0.8)
    bounds = model.predict_interval(X, 0.8)
    near_edge = np.isclose(y, bounds[:, 0]) | np.isclose(y, bounds[:, 1])
    expected = (bounds[:, 0] <= y) & (y <= bounds[:, 1])
    assert np.array_equal(inside[~near_edge], expected[~near_edge])
    assert 0 < inside.mean() < 1
    quantiles = model.predict_quantile(X[:6], [0.2, 0.8])
    assert np.allclose(model.predict_cdf(X[:6], quantiles[:, 1]), 0.8)
    assert model.sample(X[:6], 5).shape == (6, 5)


# -- errors -----------------------------------------------------------------------


def test_members_without_held_out_rows_is_an_error():
    rng = np.random.RandomState(11)
    X, y = heteroscedastic(60, rng)
    with pytest.raises(ValueError, match="early_stopping=False"):
        CalibratedQuantileRegressor(
            small_incremental(early_stopping=False), cv="members"
        ).fit(X, y)


def test_other_estimators_are_refused():
    X, y = heteroscedastic(30, np.random.RandomState(12))
    with pytest.raises(TypeError, match="skquantile estimator"):
        CalibratedQuantileRegressor(LinearRegression()).fit(X, y)


def test_prefit_needs_a_fitted_estimator():
    X, y = heteroscedastic(30, np.random.RandomState(13))
    with pytest.raises(NotFittedError):
        CalibratedQuantileRegressor(small_incremental(), cv="prefit").fit(X, y)


def test_held_out_scores_need_the_training_data():
    rng = np.random.RandomState(14)
    X, y = heteroscedastic(100, rng)
    estimator = small_incremental(n_members=1).fit(X, y)
    with pytest.raises(ValueError, match="data the estimator was fitted on"):
        estimator._held_out_scores(X, y + 1.0)


def test_regions_only_for_the_convex_estimator(calibrated_incremental):
    model, _ = calibrated_incremental
    assert not hasattr(model, "predict_region")
    assert hasattr(CalibratedQuantileRegressor(small_convex()), "region_contains")


@parametrize_with_checks(
    [
        # The default "auto" cross-fits an ensemble; "members" calibrates on
        # the rows the members held out.
        CalibratedQuantileRegressor(small_incremental(n_members=2)),
        CalibratedQuantileRegressor(small_incremental(n_members=2), cv="members"),
    ]
)
def test_sklearn_compatible_meta_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cv", ["members", "prefit"])
def test_save_and_load_a_calibrated_model(tmp_path, cv):
    from skquantile import load_model, save_model

    rng = np.random.RandomState(16)
    X, y = heteroscedastic(200, rng)
    estimator = small_incremental(n_members=1)
    if cv == "prefit":
        estimator.fit(X[:100], y[:100])
    model = CalibratedQuantileRegressor(estimator, cv=cv, n_jobs=2)
    model.fit(X[100:], y[100:])
    save_model(model, tmp_path / "calibrated.skq")
    loaded = load_model(tmp_path / "calibrated.skq")
    assert type(loaded) is CalibratedQuantileRegressor
    assert loaded.cv == cv and loaded.cv_ == model.cv_
    assert loaded.get_params()["n_jobs"] == model.n_jobs == 2
    # Levels that the ten held-out rows of "members" certify.
    levels = np.array([0.1, 0.5, 0.9])
    assert np.array_equal(
        loaded.predict_quantile(X[:5], levels), model.predict_quantile(X[:5], levels)
    )
    assert np.array_equal(loaded.calibration_scores_, model.calibration_scores_)


def test_calibrated_pipelines_are_not_saved(tmp_path):
    from skquantile import save_model

    rng = np.random.RandomState(17)
    X, y = heteroscedastic(100, rng)
    pipeline = make_pipeline(StandardScaler(), small_incremental(n_members=1))
    model = CalibratedQuantileRegressor(pipeline).fit(X, y)
    with pytest.raises(TypeError, match="pickle or joblib"):
        save_model(model, tmp_path / "pipeline.skq")
