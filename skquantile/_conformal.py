"""Conformal calibration of a whole quantile function, and of joint regions.

A fitted model turns an observation ``y`` at ``x`` into a score in (0, 1):
the probability integral transform ``F(y | x)`` of each target, or, for the
joint law of :class:`~skquantile.ConvexQuantileRegressor`, the probability
of the smallest central region that holds ``y``. Under a calibrated model
the scores are uniform. :class:`LevelMap` reads their empirical
distribution on calibration rows that the predicting model did not train
on, and maps every level through it with the finite-sample rank correction
of split conformal prediction (distributional conformal prediction,
Chernozhukov, Wuethrich and Zhu, PNAS 2021). For exchangeable rows the
recalibrated quantile at level ``a`` then lies above the observation with
probability at least ``a``. :class:`CalibratedQuantileRegressor` is the
meta-estimator that users see.
"""

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from scipy import special, stats
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples as _num_rows
from sklearn.utils.validation import check_is_fitted

from ._base import BaseQuantileNetwork, quantiles_of_draws
from ._docstrings import PREDICT_PARAMETERS, shared_parameters
from ._incremental import IncrementalQuantileRegressor
from ._pipelines import FrozenEstimator, final_step, transform_for_final_step
from ._plan import resolve_n_members
from ._threads import resolve_threads, torch_threads
from ._validation import (
    check_coverage,
    check_levels,
    check_n_samples,
    check_sample_weight,
)

#: Folds of the cross-fitting that ``cv="auto"`` chooses for an ensemble.
AUTO_FOLDS = 5

#: Mapped levels stay this far inside (0, 1), where every quantile is finite.
_LEVEL_FLOOR = np.finfo(np.float64).tiny
_LEVEL_CEILING = 1.0 - 2.0**-53


class LevelMap:
    """The conformal map of levels from calibration scores.

    With the ``n`` scores sorted, ``s_(1) <= ... <= s_(n)``, split
    conformal prediction certifies level ``a`` with the score of rank
    ``ceil((n + 1) a)``: a new exchangeable score is at most that one with
    probability at least ``a`` (and less than the score of rank
    ``floor((n + 1) a) + 1`` with probability at most ``a``). Two
    continuous, increasing maps of (0, 1) onto itself interpolate these
    ranks linearly:

    - :meth:`upper` passes through ``((k - 1) / (n + 1), s_(k))``, so
      ``upper(a) >= s_(ceil((n + 1) a))``: ``P(score <= upper(a)) >= a`` for
      every ``a`` in ``[1 / (n + 1), n / (n + 1)]``;
    - :meth:`lower` passes through ``(k / (n + 1), s_(k))``, so
      ``P(score < lower(a)) <= a`` for every ``a``.

    Both end at ``(0, 0)`` and ``(1, 1)``. Weighted rows count by their
    weight (:func:`effective_weights`): ranks become cumulative weights and
    ``n`` the total weight.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Calibration scores in [0, 1].
    weight : array-like of shape (n,)
        Positive weights, as from :func:`effective_weights`.
    """

    def __init__(self, scores, weight):
        order = np.argsort(scores, kind="stable")
        scores = np.clip(np.asarray(scores, dtype=np.float64)[order], 0.0, 1.0)
        weight = np.asarray(weight, dtype=np.float64)[order]
        self.n_rows = len(scores)
        self.total_weight = float(weight.sum())
        scale = self.total_weight + 1.0
        below = np.cumsum(weight)
        above = below - weight
        # A row of weight w > 1 stands for w rows of one score: the map is
        # flat at that score over the w - 1 ranks between its first and last
        # copy, so a weight and repeated rows give the same map.
        run = np.maximum(weight - 1.0, 0.0)
        upper = _knots(above / scale, (above + run) / scale, scores)
        lower = _knots((below - run) / scale, below / scale, scores)
        # The first copy of the lowest score is not a knot of the upper map:
        # it starts at (0, 0) instead.
        self._upper = _closed(upper[0][1:], upper[1][1:])
        self._lower = _closed(*lower)
        #: The levels the map certifies: [first, last].
        self.certified = (float(min(below[0], 1.0) / scale), float(below[-1] / scale))

    def upper(self, levels):
        """Levels whose quantiles lie above a new observation with
        probability at least ``levels``."""
        return _inside(np.interp(levels, *self._upper))

    def lower(self, levels):
        """Levels whose quantiles lie below a new observation with
        probability at least ``1 - levels``."""
        return _inside(np.interp(levels, *self._lower))

    def inverse_upper(self, scores):
        """The inverse of :meth:`upper`: the calibrated level of a score."""
        positions, knots = self._upper
        return np.interp(scores, knots, positions)


def _knots(starts, ends, scores):
    """Positions and scores of a map's knots: each score at its start, and
    at its end where a weighted row spans several ranks."""
    positions = np.column_stack([starts, ends]).ravel()
    values = np.repeat(scores, 2)
    keep = np.ones(len(positions), dtype=bool)
    keep[1::2] = ends > starts
    return positions[keep], values[keep]


def _closed(positions, scores):
    """The knots from (0, 0) to (1, 1)."""
    return (
        np.concatenate([[0.0], positions, [1.0]]),
        np.concatenate([[0.0], scores, [1.0]]),
    )


def effective_weights(weight):
    """Row weights in units of rows: scaled to add up to the effective number
    of rows ``sum(w) ** 2 / sum(w ** 2)``, which is the number of rows when
    they weigh the same. Only relative weights matter, so a weight of two
    and a row given twice (merged into one row of weight two, as in
    training) calibrate alike."""
    weight = np.asarray(weight, dtype=np.float64)
    weight = weight / weight.max()
    return weight * weight.sum() / np.sum(weight**2)


def _inside(levels):
    return np.clip(levels, _LEVEL_FLOOR, _LEVEL_CEILING)


def _fit(estimator, X, y, sample_weight):
    """Fit ``estimator`` (a skquantile estimator or a pipeline ending in
    one), passing ``sample_weight`` to the final step."""
    if sample_weight is None:
        return estimator.fit(X, y)
    if isinstance(estimator, Pipeline):
        name = estimator.steps[-1][0]
        return estimator.fit(X, y, **{f"{name}__sample_weight": sample_weight})
    return estimator.fit(X, y, sample_weight=sample_weight)


def _scores_of_rows(estimator, X, y, weight):
    """Calibration scores and weights of the rows ``(X, y)`` of positive
    ``weight`` (validated) under the fitted ``estimator`` (the model as a
    whole: none of its members is left out)."""
    final = final_step(estimator)
    features = final._validated_features(transform_for_final_step(estimator, X))
    Y = final._check_targets(y, len(features))
    keep = weight > 0
    with torch_threads(resolve_threads(final.n_jobs)):
        scores = final._calibration_scores(features[keep], Y.reshape(len(Y), -1)[keep])
    return scores, weight[keep]


def _cross_fit(estimator, cv, X, y, sample_weight, weight, n_jobs):
    """The estimator fitted on all the rows, and out-of-fold scores: each
    fold scored by a clone fitted on the other folds.

    The final fit comes first: it validates ``X`` and ``y`` with its own
    errors, and it decides what the folds' clones train. Automatic
    settings that follow the number of rows (the ensemble size, the batch
    size) would resolve differently on four fifths of the rows (kin8nm:
    three networks for the folds, two for the final fit), and a fold model
    of another kind than the predicting one would calibrate it for the
    wrong spread; the clones take the final fit's resolved values instead.
    The folds' fits are independent and run as joblib tasks, ``n_jobs`` at
    a time.
    """
    cv = check_cv(cv)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
    final = _fit(clone(estimator), X, y, sample_weight)
    template = _like_final_fit(estimator, final)
    X, y = _indexable(X), _indexable(y)
    folds = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_score_fold)(
            clone(template), X, y, sample_weight, weight, train, test
        )
        for train, test in cv.split(X, y)
    )
    scores, weights = zip(*folds, strict=True)
    return final, np.concatenate(scores), np.concatenate(weights)


def _like_final_fit(estimator, fitted):
    """A clone of ``estimator`` whose automatic ensemble and batch sizes are
    those that ``fitted`` (the same estimator, fitted) resolved."""
    template = clone(estimator)
    step, fitted_step = final_step(template), final_step(fitted)
    for name in ("n_members", "batch_size"):
        if getattr(step, name) == "auto":
            step.set_params(**{name: getattr(fitted_step, f"{name}_")})
    return template


def _fit_and_score_fold(estimator, X, y, sample_weight, weight, train, test):
    """Fit ``estimator`` on the rows ``train`` and score the rows ``test``."""
    fold = _fit(
        estimator,
        _safe_indexing(X, train),
        _safe_indexing(y, train),
        None if sample_weight is None else sample_weight[train],
    )
    return _scores_of_rows(
        fold, _safe_indexing(X, test), _safe_indexing(y, test), weight[test]
    )


def _indexable(data):
    """``data`` as rows that ``_safe_indexing`` can take: data frames and
    series (their column names matter) and sparse matrices as they are,
    anything else as an array."""
    if sp.issparse(data):
        return data.tocsr()  # formats such as DIA cannot take row indices
    if hasattr(data, "iloc"):
        return data
    return np.asarray(data)


def _one_network(estimator, X, y):
    """Whether ``estimator`` fitted on ``(X, y)`` trains a single network that
    holds out validation rows (so that its held-out rows calibrate it
    exactly)."""
    final = final_step(estimator)
    if not final.early_stopping:
        return False
    shape = np.asarray(y).shape
    n_outputs = 1 if len(shape) < 2 else shape[1]
    auto = final._auto_one_target if n_outputs == 1 else final._auto_several_targets
    n_members = final.n_members
    if n_members == "auto" and not auto.ensemble:
        return True
    return resolve_n_members(n_members, _num_rows(X)) == 1


class CalibratedQuantileRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Conformal recalibration of a whole conditional quantile function.

    Wraps a skquantile estimator (or a :class:`~sklearn.pipeline.Pipeline`
    that ends in one) and recalibrates its levels on rows it did not train
    on, so that, for exchangeable data, every quantile keeps its promise in
    finite samples: ``P(y <= Q(a | x)) >= a``, and a central interval or
    region of coverage ``c`` holds a new observation with probability at
    least ``c``. The recalibrated model still answers every query exactly:
    quantiles at any level, the distribution function, intervals, draws and,
    for :class:`ConvexQuantileRegressor`, joint regions.

    What is calibrated:

    - one target, or the independent targets of
      :class:`IncrementalQuantileRegressor`: the probability integral
      transform ``F(y | x)`` of each target; level ``a`` is replaced by a
      level read from the calibration rows' transforms, so every level of
      every target is calibrated;
    - several targets of :class:`ConvexQuantileRegressor`: the latent radius
      of the central regions (the coverage of the smallest region that holds
      ``y``); regions, region tests, and the joint draws (through the same
      map of the radius) follow. The marginal quantiles of the
      recalibrated joint draws are not certified.

    The guarantee is marginal (on average over ``x``), not conditional on
    ``x``, and it holds for levels between ``1 / (n + 1)`` and
    ``n / (n + 1)`` for ``n`` calibration rows. See the user guide,
    :ref:`conformal`.

    Parameters
    ----------
    estimator : estimator, default=None
        A skquantile estimator, or a pipeline whose last step is one. ``None``
        is :class:`IncrementalQuantileRegressor` at its defaults. With
        ``cv="prefit"`` (or a :class:`~sklearn.frozen.FrozenEstimator`, which
        takes ``cv="auto"`` or ``"prefit"``) it must be fitted already, and is
        used as it is; otherwise it is cloned.
    cv : "auto", "members", "prefit", int, splitter or iterable, default="auto"
        Where the calibration rows come from:

        - ``"auto"``: ``"members"`` where the estimator trains a single
          network on these data (``n_members=1``, or ``"auto"`` from 10 001
          rows), for which it is exact and costs no extra fit; 5-fold
          cross-fitting for an ensemble, whose members' held-out rows would
          calibrate it conservatively (see :ref:`conformal`);
        - ``"members"``: the rows that the estimator held out while training
          (``early_stopping=True``). Each is scored by the ensemble members
          that did not train on it, so no extra data and no extra fit is
          needed. The members that score a row are fewer than the ensemble
          that predicts, so the guarantee is approximate here; it is exact
          for a single network (one member, ``n_members=1``, which holds out
          ``validation_fraction`` of the rows);
        - ``"prefit"``: ``estimator`` is fitted already, and ``fit(X, y)``
          only calibrates, on these rows (which must be new to the
          estimator). The guarantee is exact;
        - an integer, a splitter or an iterable of splits (as in
          :func:`~sklearn.model_selection.check_cv`; ``None`` is 5-fold):
          cross-fitting. The estimator is fitted on all the rows, and each
          fold's rows are scored by a clone fitted on the other folds, with
          the final fit's automatic ensemble and batch sizes (so that the
          scored models are of the predicting model's kind). This costs one
          fit per fold more and uses every row twice. The fold models are
          other fits than the final one, so the guarantee is approximate:
          they calibrate the estimator's typical fit, not the final fit's
          own seed-to-seed deviation (see :ref:`conformal-results`).
    n_jobs : int, default=None
        How many of the folds' fits of cross-fitting run in parallel, as
        joblib processes, after the final fit (whose automatic ensemble and
        batch sizes they take); ``None`` is one at a time unless in a
        :func:`joblib.parallel_config` context, ``-1`` as many as there are
        processors. Only cross-fitting fits several models; with
        ``"members"`` and ``"prefit"`` this has no effect. Each fit keeps
        its estimator's own thread count (``n_jobs`` of the estimator: one
        torch thread by default), and a seeded estimator gives the same
        calibrated model with any ``n_jobs``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator whose levels are recalibrated.
    cv_ : "members", "prefit", int, splitter or iterable
        Where the calibration rows came from (``cv`` with ``"auto"``
        resolved).
    calibration_scores_ : ndarray of shape (n_calibration_rows, n_scores)
        The calibration rows' scores: one column per target (their
        probability integral transforms), or one column of central-region
        coverages for the joint law of several targets.
    calibration_weights_ : ndarray of shape (n_calibration_rows,)
        The rows' weights in units of rows: equal weights are ones; unequal
        ones add up to the effective number of rows, ``sum(w) ** 2 /
        sum(w ** 2)``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    n_outputs_ : int
        Number of targets.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, where they all are
        strings.

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : the same idiom for
        classifiers.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skquantile import CalibratedQuantileRegressor
    >>> from skquantile import IncrementalQuantileRegressor
    >>> X, y = make_regression(n_samples=200, n_features=3, noise=10.0, random_state=0)
    >>> model = CalibratedQuantileRegressor(
    ...     IncrementalQuantileRegressor(max_epochs=20, random_state=0)
    ... ).fit(X, y)
    >>> model.predict_interval(X[:2], coverage=0.9).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "cv": ["cv_object", StrOptions({"auto", "members", "prefit"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator=None, *, cv="auto", n_jobs=None):
        self.estimator = estimator
        self.cv = cv
        self.n_jobs = n_jobs

    def _estimator(self):
        estimator = self.estimator
        if estimator is None:
            estimator = IncrementalQuantileRegressor()
        if not isinstance(final_step(estimator), BaseQuantileNetwork):
            raise TypeError(
                "estimator must be a skquantile estimator "
                "(IncrementalQuantileRegressor or ConvexQuantileRegressor), or a "
                f"Pipeline that ends in one, got {type(estimator).__name__}."
            )
        return estimator

    def _prefit(self, estimator):
        return self.cv == "prefit" or (
            FrozenEstimator is not None and isinstance(estimator, FrozenEstimator)
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the estimator (unless prefit) and calibrate its levels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features, or calibration features for ``cv="prefit"``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the estimator's ``fit``; a calibration row
            counts by its weight (see ``calibration_weights_``).

        Returns
        -------
        self : object
            The calibrated estimator.
        """
        estimator = self._estimator()
        cv = self.cv
        if self._prefit(estimator):
            if not (isinstance(cv, str) and cv in ("auto", "prefit")):
                raise ValueError(
                    f"cv={cv!r} fits the estimator, but a FrozenEstimator is used "
                    "as it is: it is calibrated on the rows passed to fit, as with "
                    'cv="prefit". Leave cv="auto" (or pass cv="prefit"), or pass '
                    "the unfrozen estimator to cross-fit it."
                )
            cv = "prefit"
        elif cv == "auto":
            cv = "members" if _one_network(estimator, X, y) else AUTO_FOLDS
        self.cv_ = cv
        weight = None
        if cv != "members":
            # Validated once here, so that the folds' weights share one scale.
            weight = check_sample_weight(sample_weight, np.empty((_num_rows(X), 0)))
        if cv == "prefit":
            check_is_fitted(estimator)
            self.estimator_ = estimator
            scores, weight = _scores_of_rows(estimator, X, y, weight)
        elif cv == "members":
            final = final_step(estimator)
            if not final.early_stopping:
                raise ValueError(
                    'cv="members" calibrates on the rows that the estimator holds '
                    "out while training, but it has early_stopping=False and holds "
                    'none out. Set early_stopping=True, or use cv="prefit" with '
                    "separate calibration rows, or an integer cv to cross-fit."
                )
            self.estimator_ = _fit(clone(estimator), X, y, sample_weight)
            final = final_step(self.estimator_)
            with torch_threads(resolve_threads(final.n_jobs)):
                scores, weight = final._held_out_scores(
                    transform_for_final_step(self.estimator_, X), y, sample_weight
                )
        else:
            self.estimator_, scores, weight = _cross_fit(
                estimator, cv, X, y, sample_weight, weight, self.n_jobs
            )
        self.calibration_scores_ = scores
        self.calibration_weights_ = effective_weights(weight)
        self.n_features_in_ = self.estimator_.n_features_in_
        self.n_outputs_ = final_step(self.estimator_).n_outputs_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self._build_maps()

    def _build_maps(self):
        self._maps = [
            LevelMap(column, self.calibration_weights_)
            for column in self.calibration_scores_.T
        ]
        return self

    def _restore(self, estimator, fitted):
        """This calibrated model from a fitted ``estimator`` and the fitted
        attributes of a saved one (:func:`~skquantile.load_model`)."""
        self.estimator_ = estimator
        for name, value in fitted.items():
            setattr(self, name, value)
        return self._build_maps()

    # -- what the recalibrated model answers ---------------------------------

    def _final(self, X):
        """The fitted final estimator and ``X`` as it sees it."""
        check_is_fitted(self)
        return final_step(self.estimator_), transform_for_final_step(self.estimator_, X)

    def _radial(self, final):
        """Whether the calibration is of the joint regions' radius."""
        return getattr(final, "_joint", False) and final.n_outputs_ > 1

    @shared_parameters(PREDICT_PARAMETERS)
    def predict(self, X, quantiles=None):
        """Predict the recalibrated conditional median, or quantiles.

        For several targets of :class:`ConvexQuantileRegressor` the median is
        the estimator's multivariate median, which the recalibration of the
        regions' radius leaves in place.

        {predict_parameters}

        Returns
        -------
        ndarray
            Of shape (n_samples,) or (n_samples, n_outputs); with
            ``quantiles``, shaped as :meth:`predict_marginal_quantile`.
        """
        if quantiles is not None:
            return self.predict_marginal_quantile(X, quantiles)
        final, Xt = self._final(X)
        if self._radial(final):
            return final.predict(Xt)
        if final._levels_per_target:
            return self.predict_quantile(X, np.array([0.5]))
        return self.predict_quantile(X, 0.5)

    def predict_quantile(self, X, alpha):
        """Predict recalibrated quantiles at any levels.

        Takes and returns what the estimator's ``predict_quantile`` does. For
        one target (or each independent target) the quantile at level ``a``
        is the estimator's quantile at the recalibrated level, so that it
        lies above a new observation with probability at least ``a``. For
        several targets of :class:`ConvexQuantileRegressor` a level vector is
        mapped to the latent space as by the estimator, and its radius is
        recalibrated as the regions' is.

        The lower end of :meth:`predict_interval` is not this quantile at
        ``(1 - coverage) / 2``: it is read from the calibration ranks below
        that level, so that a new observation falls under it with
        probability at most ``(1 - coverage) / 2``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        alpha : float or array-like
            Levels, as for the estimator's ``predict_quantile``.

        Returns
        -------
        ndarray
            Shaped as the estimator's ``predict_quantile``.
        """
        final, Xt = self._final(X)
        if self._radial(final):
            levels = np.asarray(alpha)
            d = final.n_outputs_
            if levels.ndim not in (1, 2) or levels.shape[-1] != d:
                raise ValueError(
                    f"alpha must be a level vector of shape ({d},) or an array of "
                    f"shape (n_levels, {d}), got shape {levels.shape}."
                )
            flat, _ = check_levels(levels.ravel())
            latent = self._radius_map(special.ndtri(flat.reshape(-1, d)))
            quantiles = self._map(final, Xt, latent)
            return quantiles[:, 0] if levels.ndim == 1 else quantiles
        if isinstance(final, IncrementalQuantileRegressor):
            levels, scalar = check_levels(alpha)
            self._warn_uncertified(*levels)
            mapped = np.stack([level_map.upper(levels) for level_map in self._maps])
            quantiles = self._incremental_quantiles(final, Xt, mapped)
            return final._squeeze(quantiles[..., 0] if scalar else quantiles, axis=1)
        # One target of ConvexQuantileRegressor (its levels as it takes them).
        if final._y_ndim == 1:
            levels, scalar = check_levels(alpha)
            self._warn_uncertified(*levels)
            mapped = self._maps[0].upper(levels)
            return final.predict_quantile(Xt, mapped[0] if scalar else mapped)
        return final.predict_quantile(Xt, self._maps[0].upper(np.asarray(alpha)))

    @shared_parameters(PREDICT_PARAMETERS)
    def predict_cdf(self, X, y):
        """Predict the recalibrated distribution function at given targets.

        The exact inverse of :meth:`predict_quantile`; defined where the
        estimator's ``predict_cdf`` is (not for the joint law of several
        targets).

        {predict_cdf_parameters}

        Returns
        -------
        ndarray of the shape of ``y``
            Probabilities in [0, 1].
        """
        final, Xt = self._final(X)
        cdf = final.predict_cdf(Xt, y)
        columns = cdf.reshape(len(cdf), -1)
        calibrated = np.column_stack(
            [
                level_map.inverse_upper(column)
                for level_map, column in zip(self._maps, columns.T, strict=True)
            ]
        )
        return calibrated.reshape(cdf.shape)

    @shared_parameters(PREDICT_PARAMETERS)
    def sample(self, X, n_samples=1, random_state=None):
        """Draw targets from each row's recalibrated distribution.

        Each draw is the estimator's quantile at a uniform level mapped as
        :meth:`predict_quantile` maps levels; for the joint law of several
        targets, the latent draw's radius is recalibrated as the regions' is.

        {sample_parameters}

        Returns
        -------
        ndarray
            Shaped as the estimator's ``sample``.
        """
        final, Xt = self._final(X)
        n_samples = check_n_samples(n_samples)
        rng = check_random_state(random_state)
        n_rows = len(final._validated_features(Xt))
        if isinstance(final, IncrementalQuantileRegressor):
            uniform = rng.uniform(size=(n_rows, final.n_outputs_, n_samples))
            levels = np.stack(
                [
                    level_map.upper(uniform[:, j])
                    for j, level_map in enumerate(self._maps)
                ],
                axis=1,
            )
            draws = self._incremental_quantiles(final, Xt, levels)
            return draws[:, 0] if final._y_ndim == 1 else np.moveaxis(draws, 1, 2)
        latent = rng.standard_normal((n_rows, n_samples, final.n_outputs_))
        if self._radial(final):
            latent = self._radius_map(latent)
        else:
            latent = special.ndtri(self._maps[0].upper(special.ndtr(latent)))
        return final._squeeze(self._map(final, Xt, latent), axis=-1)

    def predict_interval(self, X, coverage=0.9):
        """Predict central prediction intervals of each target.

        For one target, or the independent targets of
        :class:`IncrementalQuantileRegressor`, an interval holds a new
        observation with probability at least ``coverage``: its lower end is
        read from the calibration ranks below the level ``(1 - coverage) /
        2``, its upper end from those above ``(1 + coverage) / 2``. For the
        joint law of several targets the intervals are marginal quantiles of
        the recalibrated draws, without that guarantee (use
        :meth:`predict_region`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        coverage : float, default=0.9
            Probability mass of each interval, in (0, 1).

        Returns
        -------
        ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper bounds.
        """
        coverage = check_coverage(coverage)
        final, Xt = self._final(X)
        low, high = (1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0
        if self._radial(final):
            return self.predict_marginal_quantile(X, np.array([low, high]))
        self._warn_uncertified(low, high)
        ends = np.array(
            [[level_map.lower(low), level_map.upper(high)] for level_map in self._maps]
        )
        if isinstance(final, IncrementalQuantileRegressor):
            bounds = self._incremental_quantiles(final, Xt, ends)
            return final._squeeze(bounds, axis=1)
        latent = special.ndtri(ends.reshape(2, 1))
        bounds = self._map(final, Xt, latent)[..., 0]
        return bounds if final._y_ndim == 1 else bounds[:, None, :]

    @shared_parameters(PREDICT_PARAMETERS)
    def predict_marginal_quantile(self, X, alpha, n_samples=1000, random_state=0):
        """Predict the quantiles of each target on its own.

        :meth:`predict_quantile` where the marginals have a closed form;
        for the joint law of several targets, quantiles of ``n_samples``
        recalibrated joint draws per row (not certified; see the class
        description).

        {marginal_quantile_parameters}

        Returns
        -------
        ndarray
            Shaped as the estimator's ``predict_marginal_quantile``.
        """
        levels, scalar = check_levels(alpha)
        n_samples = check_n_samples(n_samples)
        final, _ = self._final(X)
        if not final._levels_per_target:
            return self.predict_quantile(X, alpha)
        draws = self.sample(X, n_samples, random_state=random_state)
        return quantiles_of_draws(draws, levels, scalar)

    def _final_has_regions(self):
        estimator = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(final_step(estimator), "predict_region")

    @available_if(_final_has_regions)
    @shared_parameters(PREDICT_PARAMETERS)
    def predict_region(self, X, coverage=0.9, n_points=100):
        """Points on the boundary of the recalibrated central region.

        The region of the estimator's ``predict_region`` whose latent radius
        is read from the calibration rows, so that it holds a new observation
        with probability at least ``coverage``, in any dimension. For one
        target, the recalibrated central interval.

        {region_parameters}

        Returns
        -------
        ndarray
            Shaped as the estimator's ``predict_region``.
        """
        coverage = check_coverage(coverage)
        final, Xt = self._final(X)
        if not self._radial(final):
            n_points = check_n_samples(n_points, "n_points")
            bounds = self.predict_interval(X, coverage)
            return bounds if final._y_ndim == 1 else bounds[:, 0]
        self._warn_uncertified(coverage)
        return final.predict_region(Xt, self._maps[0].upper(coverage), n_points)

    @available_if(_final_has_regions)
    @shared_parameters(PREDICT_PARAMETERS)
    def region_contains(self, X, Y, coverage=0.9):
        """Whether observations lie inside the recalibrated central region.

        The region of :meth:`predict_region`, which holds a new observation
        with probability at least ``coverage``; for one target, the
        recalibrated central interval.

        {region_contains_parameters}

        Returns
        -------
        ndarray of bool, shape (n_samples,)
        """
        coverage = check_coverage(coverage)
        final, Xt = self._final(X)
        if self._radial(final):
            self._warn_uncertified(coverage)
            return final.region_contains(Xt, Y, self._maps[0].upper(coverage))
        low, high = (1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0
        self._warn_uncertified(low, high)
        features = final._validated_features(Xt)
        Y = final._check_targets(Y, len(features), name="Y")
        with torch_threads(resolve_threads(final.n_jobs)):
            scores = final._calibration_scores(features, Y.reshape(len(Y), -1))
        level_map = self._maps[0]
        return (scores[:, 0] >= level_map.lower(low)) & (
            scores[:, 0] <= level_map.upper(high)
        )

    # -- helpers ---------------------------------------------------------------

    def _warn_uncertified(self, *levels):
        first, last = self._maps[0].certified
        beyond = [level for level in levels if level < first or level > last]
        if beyond:
            listed = ", ".join(f"{level:.4g}" for level in beyond[:6])
            if len(beyond) > 6:
                listed += f" and {len(beyond) - 6} more"
            warnings.warn(
                f"With {self._maps[0].n_rows} calibration rows, conformal "
                f"calibration certifies levels from {first:.4g} to {last:.4g} "
                f"only; levels {listed} are beyond that, and their guarantee "
                "does not hold. Calibrate on more rows.",
                UserWarning,
                stacklevel=3,
            )

    def _radius_map(self, latent):
        """Latent points with their radius recalibrated: the probability of
        the ball through a point is mapped as the regions' coverage is."""
        d = latent.shape[-1]
        squared = (latent**2).sum(-1, keepdims=True)
        coverage = stats.chi2.cdf(squared, d)
        target = stats.chi2.ppf(self._maps[0].upper(coverage), d)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(squared > 0, np.sqrt(target / squared), 1.0)
        return latent * factor

    @staticmethod
    def _map(final, Xt, latent):
        features = final._validated_features(Xt)
        with torch_threads(resolve_threads(final.n_jobs)):
            return final._map(features, latent)

    @staticmethod
    def _incremental_quantiles(final, Xt, levels):
        """Quantiles (n_rows, n_outputs, n_levels) of an incremental model at
        per-target levels: ``levels`` is (n_outputs, n_levels) for every row
        or (n_rows, n_outputs, n_levels)."""
        features = final._validated_features(Xt)
        start = [0]

        def chunk_levels(n_rows):
            if levels.ndim == 2:
                return np.broadcast_to(levels, (n_rows, *levels.shape))
            rows = slice(start[0], start[0] + n_rows)
            start[0] += n_rows
            return levels[rows]

        with torch_threads(resolve_threads(final.n_jobs)):
            return final._quantiles(features, chunk_levels)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator = (
            IncrementalQuantileRegressor()
            if self.estimator is None
            else (self.estimator)
        )
        inner = get_tags(estimator).input_tags
        tags.input_tags.allow_nan = inner.allow_nan
        tags.input_tags.sparse = inner.sparse
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
