"""Scores of predicted quantiles, samples and intervals, and scorers built on them."""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.metrics import mean_pinball_loss as _sklearn_mean_pinball_loss
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._docstrings import shared_parameters
from ._pipelines import fitted_network, locate_method
from ._validation import (
    check_finite_array,
    check_interval,
    check_levels,
    check_row_weights,
    check_target,
    check_target_quantiles,
)

#: Descriptions of the parameters that several metrics share
#: (:func:`~skquantile._docstrings.shared_parameters`).
_PARAMETERS = {
    "y_true": """y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
    Observed targets.""",
    "y_quantiles": """y_quantiles : array-like of shape (n_samples, n_levels) or \
(n_samples, n_outputs, n_levels)
    Predicted quantiles, one per level along the last axis.""",
    "y_quantiles_or_target_shape": """y_quantiles : array-like of shape \
(n_samples, n_levels) or (n_samples, n_outputs, n_levels)
    Predicted quantiles, one per level along the last axis. For a scalar
    ``alpha`` the shape of ``y_true`` is accepted as well.""",
    "levels_any_order": """alpha : float or array-like of shape (n_levels,)
    Levels of the quantiles, strictly inside (0, 1), in any order.""",
    "interval": """interval : array-like of shape (n_samples, 2) or \
(n_samples, n_outputs, 2)
    Lower and upper bounds along the last axis, lower <= upper.""",
    "sample_weight": """sample_weight : array-like of shape (n_samples,), default=None
    Non-negative weights of the rows; ``None`` weighs them equally.""",
    "multioutput": """multioutput : {"raw_values", "uniform_average"} or array-like of \
shape (n_outputs,), default="uniform_average"
    ``"raw_values"`` returns one value per output (an array of shape (1,)
    for a 1-d target), ``"uniform_average"`` their mean, and an array their
    average with these weights.""",
    "beta": """beta : float, default=1.0
    Exponent of the distances, strictly inside (0, 2).""",
}
_PARAMETERS["scorer_random_state"] = """random_state : int, RandomState \
instance or None, default=0
    Passed to ``sample``. With an integer every call draws with the same
    seed, so that all candidates of a search are rated on comparable draws
    and a repeated call gives the same score; a RandomState instance
    advances from call to call, and ``None`` draws afresh."""
_PARAMETERS["returns_scorer"] = """Returns
-------
scorer : callable
    ``scorer(estimator, X, y_true, sample_weight=None)`` returning a float:
    minus the score, so that greater is better as
    :class:`~sklearn.model_selection.GridSearchCV` expects. For a
    :class:`~sklearn.pipeline.Pipeline`, ``X`` goes through its transformers
    and the final step is called."""
_PARAMETERS["quantile_score_parameters"] = "\n".join(
    _PARAMETERS[name]
    for name in (
        "y_true",
        "y_quantiles_or_target_shape",
        "levels_any_order",
        "sample_weight",
        "multioutput",
    )
)
# The Returns sections of the scores that are non-negative, per output.
_PARAMETERS.update(
    {
        f"returns_{name}": f"""Returns
-------
{name} : float or ndarray of shape (n_outputs,)
    Non-negative; lower is better."""
        for name in ("loss", "crps", "score")
    }
)
_shared = shared_parameters(_PARAMETERS)


__all__ = [
    "calibration_error",
    "crps_from_quantiles",
    "crps_from_samples",
    "crps_scorer",
    "energy_score",
    "energy_scorer",
    "interval_coverage",
    "interval_score",
    "interval_width",
    "make_crps_scorer",
    "make_energy_scorer",
    "make_interval_scorer",
    "make_pinball_scorer",
    "make_variogram_scorer",
    "mean_pinball_loss",
    "midpoint_levels",
    "pinball_scorer",
    "quantile_crossing_rate",
    "variogram_score",
    "variogram_scorer",
]

_MULTIOUTPUT = [StrOptions({"raw_values", "uniform_average"}), "array-like"]
_LEVELS = [Real, "array-like"]
_COVERAGE = [Interval(Real, 0, 1, closed="neither")]
_BETA = [Interval(Real, 0, 2, closed="neither")]
_VARIOGRAM_ORDER = [Interval(Real, 0, None, closed="neither")]


def _score_constraints(*arrays, per_output=True, **others):
    """The ``validate_params`` constraints of a score: the array-likes named
    in ``arrays``, the ``others`` as given, the optional ``sample_weight``
    and, for a score of each output (``per_output``), ``multioutput``."""
    constraints = {name: ["array-like"] for name in arrays}
    constraints.update(others, sample_weight=["array-like", None])
    if per_output:
        constraints["multioutput"] = _MULTIOUTPUT
    return constraints


#: The parameters of a score of quantiles at given levels (the pinball loss,
#: the calibration error).
_QUANTILE_SCORE_CONSTRAINTS = _score_constraints("y_true", "y_quantiles", alpha=_LEVELS)

# Largest number of floats that one temporary array of the multivariate
# sample scores may hold (32 MiB in float64); rows and draws are processed in
# chunks below this size.
_MAX_CHUNK_FLOATS = 2**22


# %% Validation helpers


def _aggregate(raw, multioutput):
    """Combine one score per output as ``multioutput`` asks."""
    if isinstance(multioutput, str):
        return raw if multioutput == "raw_values" else float(np.mean(raw))
    weights = check_finite_array(multioutput, "multioutput")
    if weights.shape != raw.shape:
        raise ValueError(
            f"multioutput weights must have shape {raw.shape} (one per output), "
            f"got shape {weights.shape}."
        )
    if np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(
            "multioutput weights must be non-negative with a positive sum, got "
            f"{weights}."
        )
    return float(np.average(raw, weights=weights))


# %% Levels


@validate_params(
    {"n_levels": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def midpoint_levels(n_levels):
    """Evenly spaced levels at the midpoints of ``n_levels`` equal bins of (0, 1).

    Averaging a function of the level over this grid is the midpoint rule for
    its integral over (0, 1), which is why twice the mean pinball loss over
    these levels approximates the CRPS (see :func:`crps_from_quantiles`).

    Parameters
    ----------
    n_levels : int
        Number of levels, at least one.

    Returns
    -------
    levels : ndarray of shape (n_levels,)
        The levels ``(i - 0.5) / n_levels`` for ``i = 1, ..., n_levels``.

    Examples
    --------
    >>> from skquantile.metrics import midpoint_levels
    >>> midpoint_levels(4)
    array([0.125, 0.375, 0.625, 0.875])
    """
    # Integral admits booleans, which are flags rather than counts.
    if isinstance(n_levels, (bool, np.bool_)):
        raise TypeError(f"n_levels must be an integer, got {n_levels!r}.")
    return (np.arange(1, n_levels + 1) - 0.5) / n_levels


# %% Scores of quantiles


@_shared
@validate_params(_QUANTILE_SCORE_CONSTRAINTS, prefer_skip_nested_validation=True)
def mean_pinball_loss(
    y_true, y_quantiles, alpha, *, sample_weight=None, multioutput="uniform_average"
):
    """Pinball loss of predicted quantiles, averaged over their levels.

    At level ``a`` the pinball (quantile) loss of a prediction ``q`` for the
    observation ``y`` is ``rho_a(y - q)`` with ``rho_a(u) = max(a u, (a - 1) u)``;
    it is minimised in expectation by the true ``a``-quantile. This function
    averages :func:`sklearn.metrics.mean_pinball_loss` over the levels.

    Parameters
    ----------
    {quantile_score_parameters}

    {returns_loss}

    See Also
    --------
    crps_from_quantiles : Twice this loss over a midpoint grid of levels.
    make_pinball_scorer : Scorer that evaluates an estimator with this loss.

    Examples
    --------
    >>> from skquantile.metrics import mean_pinball_loss
    >>> y_true = [1.0, 2.0, 3.0]
    >>> y_quantiles = [[0.0, 2.0], [1.0, 3.0], [2.0, 4.0]]
    >>> mean_pinball_loss(y_true, y_quantiles, alpha=[0.25, 0.75])
    0.25
    """
    y, quantiles, levels = check_target_quantiles(y_true, y_quantiles, alpha)
    weight = check_row_weights(sample_weight, len(y))
    raw = np.mean(
        [
            _sklearn_mean_pinball_loss(
                y,
                quantiles[:, :, k],
                alpha=float(level),
                sample_weight=weight,
                multioutput="raw_values",
            )
            for k, level in enumerate(levels)
        ],
        axis=0,
    )
    return _aggregate(raw, multioutput)


@_shared
@validate_params(
    _score_constraints("y_true", "y_quantiles", alpha=_LEVELS + [None]),
    prefer_skip_nested_validation=True,
)
def crps_from_quantiles(
    y_true,
    y_quantiles,
    alpha=None,
    *,
    sample_weight=None,
    multioutput="uniform_average",
):
    """Continuous ranked probability score approximated from predicted quantiles.

    The CRPS of a distribution with quantile function ``Q`` is the integral of
    ``2 rho_a(y - Q(a))`` over the levels ``a`` in (0, 1). This function
    returns twice the :func:`mean_pinball_loss` over the given levels, which is
    the midpoint rule for that integral when the levels are the midpoint grid
    ``(i - 0.5) / M`` of :func:`midpoint_levels`; its error then shrinks like
    ``1 / M**2`` for smooth quantile functions.

    Parameters
    ----------
    {y_true}
    {y_quantiles}
    alpha : float or array-like of shape (n_levels,), default=None
        Levels of the quantiles, strictly inside (0, 1). ``None`` means the
        midpoint grid ``midpoint_levels(n_levels)``.
    {sample_weight}
    {multioutput}

    {returns_crps}

    See Also
    --------
    crps_from_samples : The CRPS estimated from draws of the distribution.
    make_crps_scorer : Scorer that evaluates an estimator with this score.

    Notes
    -----
    Only a grid that gives each level the same share of (0, 1) approximates
    the CRPS. The common grid ``i / (M + 1)`` is biased: it omits the tails
    ``(0, 1 / (M + 1))`` and ``(M / (M + 1), 1)`` yet divides by ``M``, so
    twice its mean pinball loss is off by a term of order ``1 / M`` instead
    of ``1 / M**2``.

    Examples
    --------
    Standard normal quantiles on a fine midpoint grid give the closed-form
    CRPS of the standard normal at zero, ``2 phi(0) - 1 / sqrt(pi)``:

    >>> from scipy.stats import norm
    >>> from skquantile.metrics import crps_from_quantiles, midpoint_levels
    >>> y_quantiles = norm.ppf(midpoint_levels(999))[None, :]
    >>> round(crps_from_quantiles([0.0], y_quantiles), 3)
    0.234
    """
    y, quantiles, levels = check_target_quantiles(
        y_true, y_quantiles, alpha, default_levels=midpoint_levels
    )
    raw = 2.0 * mean_pinball_loss(
        y, quantiles, levels, sample_weight=sample_weight, multioutput="raw_values"
    )
    return _aggregate(raw, multioutput)


@_shared
@validate_params(
    _score_constraints("y_true", "samples"), prefer_skip_nested_validation=True
)
def crps_from_samples(
    y_true, samples, *, sample_weight=None, multioutput="uniform_average"
):
    """Continuous ranked probability score estimated from draws of the prediction.

    For each row the draws ``s_1, ..., s_S`` of the predicted distribution
    give the unbiased estimate

    ``mean_k |s_k - y| - 1 / (2 S (S - 1)) sum_{j != k} |s_j - s_k|``

    of ``CRPS = E|X - y| - E|X - X'| / 2``. It is computed in ``O(S log S)``
    per row from the sorted draws, as ``sum_{j < k} (s_(k) - s_(j))`` equals
    ``sum_k (2 k - S - 1) s_(k)``. The rows' estimates are then averaged.

    Parameters
    ----------
    {y_true}
    samples : array-like of shape (n_samples, n_draws) or \
(n_samples, n_draws, n_outputs)
        Draws of each row's predicted distribution, at least two per row.
        For a 2-d target each output is scored on its own (marginal) draws.
    {sample_weight}
    {multioutput}

    Returns
    -------
    crps : float or ndarray of shape (n_outputs,)
        Lower is better. Every row's estimate is non-negative (up to
        rounding), even though the estimator is unbiased.

    See Also
    --------
    crps_from_quantiles : The CRPS approximated from predicted quantiles.

    Notes
    -----
    The second term uses ``S (S - 1)`` rather than ``S**2`` pairs, which
    removes the bias of the plug-in estimate (Ferro et al., Meteorological
    Applications, 2008). Non-negativity holds row by row: with ``y`` at the
    median of the draws, each gap between consecutive sorted draws enters
    with a non-negative weight.

    Examples
    --------
    >>> from skquantile.metrics import crps_from_samples
    >>> round(crps_from_samples([0.0], [[0.0, 1.0, 2.0]]), 4)
    0.3333
    """
    y, target_shape = check_target(y_true)
    draws = check_finite_array(samples, "samples")
    n_samples, n_outputs = y.shape
    if len(target_shape) == 1:
        expected = f"({n_samples}, n_draws)"
        valid = draws.ndim == 2 and len(draws) == n_samples
    else:
        expected = f"({n_samples}, n_draws, {n_outputs})"
        valid = draws.ndim == 3 and draws.shape[::2] == (n_samples, n_outputs)
    if not valid:
        raise ValueError(
            f"samples must have shape {expected} to match y_true of shape "
            f"{target_shape}, got shape {draws.shape}."
        )
    draws = draws.reshape(n_samples, draws.shape[1], n_outputs)
    n_draws = draws.shape[1]
    if n_draws < 2:
        raise ValueError(
            f"samples must hold at least 2 draws per row (axis 1), got {n_draws}; "
            "the unbiased CRPS estimate needs a pair of draws."
        )
    weight = check_row_weights(sample_weight, n_samples)

    distance = np.abs(draws - y[:, None, :]).mean(axis=1)
    ranks = np.arange(1, n_draws + 1)
    pair_sum = np.einsum("nsd,s->nd", np.sort(draws, axis=1), 2 * ranks - n_draws - 1)
    per_row = distance - pair_sum / (n_draws * (n_draws - 1))
    return _aggregate(np.average(per_row, axis=0, weights=weight), multioutput)


@_shared
@validate_params(_QUANTILE_SCORE_CONSTRAINTS, prefer_skip_nested_validation=True)
def calibration_error(
    y_true, y_quantiles, alpha, *, sample_weight=None, multioutput="uniform_average"
):
    """Mean absolute gap between each level and the share of targets below it.

    For a calibrated model the observations fall at or below the predicted
    ``a``-quantile in a share ``a`` of the rows. This function measures, for
    each level, the (weighted) share of rows with ``y <= Q(a)`` and returns the
    mean of ``|share - a|`` over the levels.

    Parameters
    ----------
    {quantile_score_parameters}

    Returns
    -------
    error : float or ndarray of shape (n_outputs,)
        In [0, 1); lower is better. Even a perfect model shows an error of
        order ``1 / sqrt(n_samples)`` from sampling noise.

    Examples
    --------
    The median is predicted too low: only one target in four lies below it.

    >>> from skquantile.metrics import calibration_error
    >>> calibration_error([0.0, 1.0, 2.0, 3.0], [0.5, 0.5, 0.5, 0.5], alpha=0.5)
    0.25
    """
    y, quantiles, levels = check_target_quantiles(y_true, y_quantiles, alpha)
    weight = check_row_weights(sample_weight, len(y))
    share_below = np.average(y[:, :, None] <= quantiles, axis=0, weights=weight)
    raw = np.mean(np.abs(share_below - levels), axis=-1)
    return _aggregate(raw, multioutput)


@_shared
@validate_params(
    {"y_quantiles": ["array-like"], "alpha": _LEVELS + [None]},
    prefer_skip_nested_validation=True,
)
def quantile_crossing_rate(y_quantiles, alpha=None):
    """Share of adjacent pairs of levels whose predicted quantiles cross.

    A quantile function never decreases, so ``Q(a_(k+1)) < Q(a_k)`` for
    levels ``a_k < a_(k+1)`` is a crossing. This function counts crossings
    over every row, output and pair of adjacent levels.

    Parameters
    ----------
    {y_quantiles}
    alpha : array-like of shape (n_levels,), default=None
        Levels of the quantiles, strictly inside (0, 1). When given, the last
        axis is first put in increasing order of ``alpha``; ``None`` means it
        already is.

    Returns
    -------
    rate : float
        Share of crossing pairs, in [0, 1]; ``0.0`` with fewer than two
        levels.

    Examples
    --------
    The second row crosses between its last two levels:

    >>> from skquantile.metrics import quantile_crossing_rate
    >>> quantile_crossing_rate([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]])
    0.25
    >>> quantile_crossing_rate([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]], [0.1, 0.9, 0.5])
    0.25
    """
    quantiles = check_finite_array(y_quantiles, "y_quantiles")
    if quantiles.ndim not in (2, 3):
        raise ValueError(
            "y_quantiles must have shape (n_samples, n_levels) or (n_samples, "
            f"n_outputs, n_levels), got shape {quantiles.shape}."
        )
    n_levels = quantiles.shape[-1]
    if n_levels == 0:
        raise ValueError("y_quantiles must hold at least one level, got none.")
    if alpha is not None:
        levels, _ = check_levels(alpha)
        if len(levels) != n_levels:
            raise ValueError(
                f"alpha holds {len(levels)} level(s) but y_quantiles has "
                f"{n_levels} quantile(s) along its last axis."
            )
        quantiles = quantiles[..., np.argsort(levels, kind="stable")]
    if n_levels < 2:
        return 0.0
    return float(np.mean(quantiles[..., 1:] < quantiles[..., :-1]))


# %% Scores of intervals


@_shared
@validate_params(
    _score_constraints("y_true", "interval"), prefer_skip_nested_validation=True
)
def interval_coverage(
    y_true, interval, *, sample_weight=None, multioutput="uniform_average"
):
    """Share of targets inside their prediction interval, bounds included.

    Parameters
    ----------
    {y_true}
    {interval}
    {sample_weight}
    {multioutput}

    Returns
    -------
    coverage : float or ndarray of shape (n_outputs,)
        In [0, 1]; close to the nominal coverage for a calibrated model.

    See Also
    --------
    interval_width : Mean width of the same intervals.
    interval_score : Width and misses combined into one proper score.

    Examples
    --------
    >>> from skquantile.metrics import interval_coverage
    >>> y_true = [1.0, 2.0, 3.0, 4.0]
    >>> interval = [[0.0, 2.0], [0.0, 1.0], [2.0, 4.0], [4.0, 5.0]]
    >>> interval_coverage(y_true, interval)
    0.75
    """
    y, target_shape = check_target(y_true)
    lower, upper = check_interval(interval, target_shape)
    weight = check_row_weights(sample_weight, len(y))
    inside = (lower <= y) & (y <= upper)
    return _aggregate(np.average(inside, axis=0, weights=weight), multioutput)


@_shared
@validate_params(_score_constraints("interval"), prefer_skip_nested_validation=True)
def interval_width(interval, *, sample_weight=None, multioutput="uniform_average"):
    """Mean width ``upper - lower`` of prediction intervals.

    Parameters
    ----------
    {interval}
    {sample_weight}
    multioutput : {"raw_values", "uniform_average"} or array-like of shape \
(n_outputs,), default="uniform_average"
        ``"raw_values"`` returns one width per output (an array of shape (1,)
        for intervals of shape (n_samples, 2)), ``"uniform_average"`` their
        mean, and an array their average with these weights.

    Returns
    -------
    width : float or ndarray of shape (n_outputs,)
        Non-negative; narrower is better at the same coverage.

    Examples
    --------
    >>> from skquantile.metrics import interval_width
    >>> interval_width([[0.0, 2.0], [0.0, 1.0], [2.0, 4.0], [4.0, 5.0]])
    1.5
    """
    lower, upper = check_interval(interval)
    weight = check_row_weights(sample_weight, len(lower))
    return _aggregate(np.average(upper - lower, axis=0, weights=weight), multioutput)


@_shared
@validate_params(
    _score_constraints("y_true", "interval", coverage=_COVERAGE),
    prefer_skip_nested_validation=True,
)
def interval_score(
    y_true, interval, coverage, *, sample_weight=None, multioutput="uniform_average"
):
    """Interval score of central prediction intervals: width plus miss penalties.

    For an interval ``[l, u]`` of nominal coverage ``c`` the score of ``y`` is
    ``(u - l) + (2 / a) (l - y)_+ + (2 / a) (y - u)_+`` with ``a = 1 - c``.
    It is a proper score for the central interval between the quantiles at
    ``a / 2`` and ``1 - a / 2`` (Gneiting and Raftery, JASA, 2007).

    Parameters
    ----------
    {y_true}
    {interval}
    coverage : float
        Nominal coverage (probability mass) of the intervals, strictly inside
        (0, 1).
    {sample_weight}
    {multioutput}

    {returns_score}

    See Also
    --------
    make_interval_scorer : Scorer that evaluates an estimator with this score.

    Examples
    --------
    The second target lies 1 above its interval, a penalty of ``2 / 0.5``:

    >>> from skquantile.metrics import interval_score
    >>> y_true = [1.0, 2.0, 3.0, 4.0]
    >>> interval = [[0.0, 2.0], [0.0, 1.0], [2.0, 4.0], [4.0, 5.0]]
    >>> interval_score(y_true, interval, coverage=0.5)
    2.5
    """
    y, target_shape = check_target(y_true)
    lower, upper = check_interval(interval, target_shape)
    weight = check_row_weights(sample_weight, len(y))
    penalty = 2.0 / (1.0 - coverage)
    per_row = (
        (upper - lower)
        + penalty * np.maximum(lower - y, 0.0)
        + penalty * np.maximum(y - upper, 0.0)
    )
    return _aggregate(np.average(per_row, axis=0, weights=weight), multioutput)


# %% Scores of multivariate draws


def _chunks(n_items, item_size, budget):
    """Split ``range(n_items)`` into slices of at most ``budget / item_size`` items.

    Every slice holds at least one item, so a single item larger than the
    budget still gets processed, alone.
    """
    step = max(1, budget // max(item_size, 1))
    return [slice(start, start + step) for start in range(0, n_items, step)]


def _check_multivariate_draws(y_true, samples, *, min_outputs, min_draws):
    """Validate targets and draws of a multivariate predictive distribution.

    Returns ``y`` of shape (n_samples, n_outputs) and the draws of shape
    (n_samples, n_draws, n_outputs). A 1-d ``y_true`` is one output, whose
    draws may come with or without the trailing outputs axis.
    """
    y, target_shape = check_target(y_true)
    draws = check_finite_array(samples, "samples")
    n_samples, n_outputs = y.shape
    if n_outputs < min_outputs:
        raise ValueError(
            f"y_true must have shape (n_samples, n_outputs) with at least "
            f"{min_outputs} outputs, got shape {target_shape}."
        )
    if len(target_shape) == 1 and draws.ndim == 2:
        draws = draws[:, :, None]
    if draws.ndim != 3 or draws.shape[::2] != (n_samples, n_outputs):
        expected = f"({n_samples}, n_draws, {n_outputs})"
        if len(target_shape) == 1:
            expected = f"({n_samples}, n_draws) or {expected}"
        raise ValueError(
            f"samples must have shape {expected} to match y_true of shape "
            f"{target_shape}, got shape {draws.shape}."
        )
    n_draws = draws.shape[1]
    if n_draws < min_draws:
        raise ValueError(
            f"samples must hold at least {min_draws} draw(s) per row (axis 1), "
            f"got {n_draws}."
        )
    return y, draws


def _norm_power(squared_norm, exponent):
    """``|v|**exponent`` from ``|v|**2``, exact for the usual exponent 1."""
    if exponent == 1.0:
        return np.sqrt(squared_norm)
    return squared_norm ** (0.5 * exponent)


def _energy_per_row(y, draws, beta, budget):
    """Unbiased energy score of each row, in chunks of at most ``budget`` floats.

    The pairwise distances of a chunk of rows form an array of shape
    (rows, draws, draws); when even one row's exceeds the budget the first
    draw axis is split as well. Distances are accumulated coordinate by
    coordinate, so no (rows, draws, draws, n_outputs) array is ever built.
    """
    n_samples, n_draws, n_outputs = draws.shape
    per_row = np.empty(n_samples)
    for rows in _chunks(n_samples, n_draws * max(n_draws, n_outputs), budget):
        block = draws[rows]
        offset = block - y[rows, None, :]
        to_target = _norm_power(np.einsum("rsc,rsc->rs", offset, offset), beta)
        pair_total = np.zeros(len(block))
        for first in _chunks(n_draws, len(block) * n_draws, budget):
            head = block[:, first]
            squared = np.zeros((len(block), head.shape[1], n_draws))
            for coordinate in range(n_outputs):
                squared += (
                    head[:, :, coordinate, None] - block[:, None, :, coordinate]
                ) ** 2
            pair_total += _norm_power(squared, beta).sum(axis=(1, 2))
        per_row[rows] = to_target.mean(axis=1) - pair_total / (
            2.0 * n_draws * (n_draws - 1)
        )
    return per_row


@_shared
@validate_params(
    _score_constraints("y_true", "samples", per_output=False, beta=_BETA),
    prefer_skip_nested_validation=True,
)
def energy_score(y_true, samples, *, beta=1.0, sample_weight=None):
    """Energy score of a multivariate prediction estimated from its draws.

    The energy score of a distribution ``P`` of vectors at the observation
    ``y`` is ``E|W - y|**beta - E|W - W'|**beta / 2`` with ``W`` and ``W'``
    independent draws of ``P`` and ``|.|`` the Euclidean norm. For each row
    the draws ``w_1, ..., w_S`` give the unbiased estimate

    ``mean_k |w_k - y|**beta - 1 / (2 S (S - 1)) sum_{j != k} |w_j - w_k|**beta``

    and the rows' estimates are then averaged. It is a proper score for any
    ``0 < beta < 2``, strictly proper for laws with a finite moment of order
    ``beta``; with one output and ``beta = 1`` it is the CRPS (see
    :func:`crps_from_samples`).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_outputs) or (n_samples,)
        Observed target vectors; a 1-d array is a single output.
    samples : array-like of shape (n_samples, n_draws, n_outputs)
        Draws of each row's predicted joint distribution, at least two per
        row, as returned by ``sample(X, n_draws)`` of a multivariate
        estimator. For a 1-d ``y_true`` the shape (n_samples, n_draws) is
        accepted as well.
    {beta}
    {sample_weight}

    Returns
    -------
    score : float
        Lower is better. Non-negative (up to rounding) for ``beta <= 1``,
        where the distance to the power ``beta`` is a metric; for
        ``beta > 1`` a row's unbiased estimate may fall below zero.

    See Also
    --------
    variogram_score : A score more sensitive to the dependence between outputs.
    make_energy_scorer : Scorer that evaluates an estimator with this score.

    Notes
    -----
    Gneiting and Raftery (JASA, 2007) introduced the score. Each row costs
    ``O(S**2 n_outputs)`` operations; rows (and, for many draws, the draws)
    are processed in chunks so that no temporary array exceeds a few million
    floats, whatever the number of rows. The score reacts only weakly to a
    wrong dependence between outputs when the marginals are right (Pinson and
    Tastu, 2013); :func:`variogram_score` reacts more.

    Examples
    --------
    With a single output this is the sample CRPS:

    >>> from skquantile.metrics import energy_score
    >>> round(energy_score([0.0], [[0.0, 1.0, 2.0]]), 4)
    0.3333

    Two outputs, two rows, three draws per row:

    >>> y_true = [[0.0, 0.0], [1.0, 1.0]]
    >>> samples = [[[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]],
    ...            [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]]
    >>> round(energy_score(y_true, samples), 4)
    0.1464
    """
    y, draws = _check_multivariate_draws(y_true, samples, min_outputs=1, min_draws=2)
    weight = check_row_weights(sample_weight, len(y))
    per_row = _energy_per_row(y, draws, float(beta), _MAX_CHUNK_FLOATS)
    return float(np.average(per_row, weights=weight))


def _check_variogram_weights(weights, n_outputs):
    """Return the (n_outputs, n_outputs) pair weights, all ones for ``None``."""
    if weights is None:
        return np.ones((n_outputs, n_outputs))
    pair_weights = check_finite_array(weights, "weights")
    if pair_weights.shape != (n_outputs, n_outputs):
        raise ValueError(
            f"weights must have shape ({n_outputs}, {n_outputs}), one weight per "
            f"pair of outputs, got shape {pair_weights.shape}."
        )
    if np.any(pair_weights < 0):
        raise ValueError("weights must be non-negative.")
    return pair_weights


def _variogram_per_row(y, draws, p, pair_weights, budget):
    """Variogram score of each row, in chunks of at most ``budget`` floats.

    The mean over the draws of ``|w_i - w_j|**p`` is accumulated over chunks
    of rows and of draws, so that no (rows, draws, n_outputs, n_outputs)
    array larger than the budget is built.
    """
    n_samples, n_draws, n_outputs = draws.shape
    pair_size = n_outputs * n_outputs
    per_row = np.empty(n_samples)
    for rows in _chunks(n_samples, n_draws * pair_size, budget):
        target = y[rows]
        observed = np.abs(target[:, :, None] - target[:, None, :]) ** p
        expected = np.zeros_like(observed)
        for part in _chunks(n_draws, len(target) * pair_size, budget):
            block = draws[rows, part]
            expected += (np.abs(block[..., :, None] - block[..., None, :]) ** p).sum(
                axis=1
            )
        expected /= n_draws
        per_row[rows] = np.einsum("rij,ij->r", (observed - expected) ** 2, pair_weights)
    return per_row


@_shared
@validate_params(
    _score_constraints(
        "y_true",
        "samples",
        per_output=False,
        p=_VARIOGRAM_ORDER,
        weights=["array-like", None],
    ),
    prefer_skip_nested_validation=True,
)
def variogram_score(y_true, samples, *, p=0.5, weights=None, sample_weight=None):
    """Variogram score of order ``p`` of a multivariate prediction from its draws.

    For a row with observation ``y`` and draws ``w_1, ..., w_S`` the score is

    ``sum_{i, j} c_ij (|y_i - y_j|**p - mean_k |w_ki - w_kj|**p)**2``

    over all ordered pairs of outputs ``(i, j)``, with pair weights ``c_ij``;
    the rows' scores are then averaged. It compares the observed differences
    between outputs with their predicted expectation (the variogram), so it
    rewards the right dependence between outputs even where the marginals
    are equally good, and ignores a shift common to all outputs.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_outputs)
        Observed target vectors, at least two outputs.
    samples : array-like of shape (n_samples, n_draws, n_outputs)
        Draws of each row's predicted joint distribution, at least one per
        row.
    p : float, default=0.5
        Order of the variogram, positive. Small orders (0.5) are robust to
        outliers.
    weights : array-like of shape (n_outputs, n_outputs), default=None
        Non-negative weight of each ordered pair of outputs; ``None`` weighs
        all pairs equally (one). The diagonal does not matter, as a pair of
        equal outputs scores zero. Each unordered pair enters twice with
        symmetric weights.
    {sample_weight}

    Returns
    -------
    score : float
        Non-negative; lower is better.

    See Also
    --------
    energy_score : The multivariate generalisation of the CRPS.
    make_variogram_scorer : Scorer that evaluates an estimator with this score.

    Notes
    -----
    Scheuerer and Hamill (Monthly Weather Review, 2015) introduced the score.
    It is proper, though not strictly: it is blind to a shift of all outputs
    by the same amount, which is why it is reported next to
    :func:`energy_score`. The draws' mean ``mean_k |w_ki - w_kj|**p`` is a
    Monte-Carlo estimate, so a finite number of draws adds a small positive
    bias. Rows and draws are processed in chunks, so memory stays bounded
    for any number of rows or draws.

    Examples
    --------
    The draws put both outputs at zero, but they differ by one:

    >>> from skquantile.metrics import variogram_score
    >>> variogram_score([[0.0, 1.0]], [[[0.0, 0.0], [0.0, 0.0]]])
    2.0
    >>> variogram_score([[0.0, 1.0]], [[[0.0, 0.0], [0.0, 2.0]]], p=1.0)
    0.0
    """
    y, draws = _check_multivariate_draws(y_true, samples, min_outputs=2, min_draws=1)
    pair_weights = _check_variogram_weights(weights, y.shape[1])
    weight = check_row_weights(sample_weight, len(y))
    per_row = _variogram_per_row(y, draws, float(p), pair_weights, _MAX_CHUNK_FLOATS)
    return float(np.average(per_row, weights=weight))


# %% Scorers


class _QuantileScorer:
    """Score an estimator by minus a loss of its own predicted distribution.

    Parameters
    ----------
    method : str
        Name of the estimator's prediction method.
    method_args, method_kwargs : tuple and dict
        Arguments passed to that method after ``X``.
    loss : callable
        ``loss(y_true, prediction, *loss_args, sample_weight=...)``; a
        module-level function, so that the scorer pickles.
    loss_args : tuple
        Arguments passed to ``loss`` after the prediction.
    description : str
        The call that built the scorer, shown by ``repr``.
    """

    def __init__(
        self, method, method_args, method_kwargs, loss, loss_args, description
    ):
        self._method = method
        self._method_args = method_args
        self._method_kwargs = method_kwargs
        self._loss = loss
        self._loss_args = loss_args
        self._description = description

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Return minus the loss of ``estimator`` on ``(X, y_true)``.

        Parameters
        ----------
        estimator : object
            Fitted estimator with the needed prediction method, or a fitted
            Pipeline whose final step has it.
        X : array-like of shape (n_samples, n_features)
            Features.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Observed targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows.

        Returns
        -------
        score : float
            Minus the loss: greater is better.
        """
        predict, X = locate_method(estimator, X, self._method)
        if self._method == "predict_quantile":
            _check_levels_per_target(estimator, self._description)
        prediction = predict(X, *self._method_args, **self._method_kwargs)
        loss = self._loss(
            y_true, prediction, *self._loss_args, sample_weight=sample_weight
        )
        return -loss

    def __repr__(self):
        return self._description


def _check_levels_per_target(estimator, description):
    """A clear error where ``predict_quantile`` of ``estimator`` takes one
    level per target (a joint model of a 2-d target) instead of levels
    shared by the targets, as the quantile scorers pass them."""
    network = fitted_network(estimator)
    if getattr(network, "_levels_per_target", False):
        raise ValueError(
            f"{description} scores the quantiles of each target at shared "
            f"levels, but {type(network).__name__} was fitted on a 2-d target, "
            "which it models jointly: its predict_quantile takes one level per "
            "target. Score it with energy_scorer or variogram_scorer (or "
            "make_interval_scorer), or fit a single target as a 1-d y."
        )


@_shared
@validate_params(
    {"n_levels": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def make_crps_scorer(n_levels=99):
    """Make a scorer that rates an estimator's quantile function by the CRPS.

    The scorer calls ``estimator.predict_quantile(X, midpoint_levels(n_levels))``
    and returns minus :func:`crps_from_quantiles`. The module attribute
    ``crps_scorer`` is ``make_crps_scorer()``. A joint model of several
    targets (:class:`~skquantile.ConvexQuantileRegressor` fitted on a 2-d
    ``y``) is refused: score it with :func:`make_energy_scorer`.

    Parameters
    ----------
    n_levels : int, default=99
        Size of the midpoint grid of levels; the approximation error of the
        CRPS falls like ``1 / n_levels**2``.

    {returns_scorer}

    See Also
    --------
    crps_from_quantiles : The score itself.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from skquantile.metrics import make_crps_scorer
    >>> class StandardNormal:
    ...     def predict_quantile(self, X, alpha):
    ...         return np.tile(norm.ppf(alpha), (len(X), 1))
    >>> scorer = make_crps_scorer(n_levels=999)
    >>> scorer
    make_crps_scorer(n_levels=999)
    >>> round(scorer(StandardNormal(), np.zeros((1, 1)), [0.0]), 3)
    -0.234
    """
    levels = midpoint_levels(n_levels)
    return _QuantileScorer(
        "predict_quantile",
        (levels,),
        {},
        crps_from_quantiles,
        (levels,),
        f"make_crps_scorer(n_levels={n_levels})",
    )


@_shared
@validate_params(
    {"alpha": _LEVELS + [None]},
    prefer_skip_nested_validation=True,
)
def make_pinball_scorer(alpha=None):
    """Make a scorer that rates an estimator's quantiles by the pinball loss.

    The scorer calls ``estimator.predict_quantile(X, alpha)`` and returns
    minus :func:`mean_pinball_loss`. The module attribute ``pinball_scorer``
    is ``make_pinball_scorer()``. A joint model of several targets is
    refused, as by :func:`make_crps_scorer`.

    Parameters
    ----------
    alpha : float or array-like of shape (n_levels,), default=None
        Levels strictly inside (0, 1). ``None`` means the 19 levels 0.05,
        0.10, ..., 0.95.

    {returns_scorer}

    See Also
    --------
    mean_pinball_loss : The loss itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile.metrics import make_pinball_scorer
    >>> class Constant:
    ...     def predict_quantile(self, X, alpha):
    ...         return np.zeros((len(X), len(alpha)))
    >>> scorer = make_pinball_scorer([0.25, 0.75])
    >>> scorer
    make_pinball_scorer(alpha=[0.25, 0.75])
    >>> scorer(Constant(), np.zeros((2, 1)), [1.0, -1.0])
    -0.5
    """
    if alpha is None:
        levels = np.linspace(0.05, 0.95, 19)
        description = "make_pinball_scorer()"
    else:
        levels, _ = check_levels(alpha)
        description = f"make_pinball_scorer(alpha={levels.tolist()})"
    return _QuantileScorer(
        "predict_quantile", (levels,), {}, mean_pinball_loss, (levels,), description
    )


@_shared
@validate_params({"coverage": _COVERAGE}, prefer_skip_nested_validation=True)
def make_interval_scorer(coverage=0.9):
    """Make a scorer that rates an estimator's central intervals by their score.

    The scorer calls ``estimator.predict_interval(X, coverage=coverage)`` and
    returns minus :func:`interval_score`.

    Parameters
    ----------
    coverage : float, default=0.9
        Nominal coverage of the intervals, strictly inside (0, 1).

    {returns_scorer}

    See Also
    --------
    interval_score : The score itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile.metrics import make_interval_scorer
    >>> class UnitInterval:
    ...     def predict_interval(self, X, coverage):
    ...         return np.tile([0.0, 1.0], (len(X), 1))
    >>> scorer = make_interval_scorer(coverage=0.5)
    >>> scorer
    make_interval_scorer(coverage=0.5)
    >>> scorer(UnitInterval(), np.zeros((2, 1)), [0.5, 2.0])
    -3.0
    """
    coverage = float(coverage)
    return _QuantileScorer(
        "predict_interval",
        (),
        {"coverage": coverage},
        interval_score,
        (coverage,),
        f"make_interval_scorer(coverage={coverage})",
    )


def _sample_scorer_constraints(min_draws, **options):
    """The ``validate_params`` constraints of a maker of a scorer of draws:
    ``n_samples`` of at least ``min_draws``, the ``options`` of the score as
    given, and ``random_state``."""
    n_samples = [Interval(Integral, min_draws, None, closed="left")]
    return {"n_samples": n_samples, **options, "random_state": ["random_state"]}


def _sample_scorer(maker, loss, n_samples, random_state, **options):
    """A scorer, made by the function named ``maker``, that calls
    ``sample(X, n_samples, random_state=...)`` and rates the draws by
    ``loss`` with the float ``options``."""
    options = {name: float(value) for name, value in options.items()}
    arguments = "".join(f"{name}={value}, " for name, value in options.items())
    return _QuantileScorer(
        "sample",
        (n_samples,),
        {"random_state": random_state},
        partial(loss, **options),
        (),
        f"{maker}(n_samples={n_samples}, {arguments}random_state={random_state!r})",
    )


@_shared
@validate_params(
    _sample_scorer_constraints(2, beta=_BETA), prefer_skip_nested_validation=True
)
def make_energy_scorer(n_samples=100, beta=1.0, random_state=0):
    """Make a scorer that rates an estimator's joint draws by the energy score.

    The scorer calls ``estimator.sample(X, n_samples, random_state=random_state)``,
    which must return draws of shape (n_rows, n_samples, n_outputs), and
    returns minus :func:`energy_score`. The module attribute
    ``energy_scorer`` is ``make_energy_scorer()``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of draws per row, at least 2. The estimate's noise falls like
        ``1 / sqrt(n_samples)``; its cost grows like ``n_samples**2``.
    {beta}
    {scorer_random_state}

    {returns_scorer}

    See Also
    --------
    energy_score : The score itself.
    make_variogram_scorer : The same for the variogram score.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile.metrics import make_energy_scorer
    >>> class StandardNormal:
    ...     def sample(self, X, n_samples, random_state=None):
    ...         rng = np.random.default_rng(random_state)
    ...         return rng.standard_normal((len(X), n_samples, 2))
    >>> scorer = make_energy_scorer(n_samples=50)
    >>> scorer
    make_energy_scorer(n_samples=50, beta=1.0, random_state=0)
    >>> score = scorer(StandardNormal(), np.zeros((3, 1)), np.zeros((3, 2)))
    >>> score < 0
    True
    >>> score == scorer(StandardNormal(), np.zeros((3, 1)), np.zeros((3, 2)))
    True
    """
    return _sample_scorer(
        "make_energy_scorer", energy_score, n_samples, random_state, beta=beta
    )


@_shared
@validate_params(
    _sample_scorer_constraints(1, p=_VARIOGRAM_ORDER),
    prefer_skip_nested_validation=True,
)
def make_variogram_scorer(n_samples=100, p=0.5, random_state=0):
    """Make a scorer that rates an estimator's joint draws by the variogram score.

    The scorer calls ``estimator.sample(X, n_samples, random_state=random_state)``,
    which must return draws of shape (n_rows, n_samples, n_outputs) with at
    least two outputs, and returns minus :func:`variogram_score` with equal
    pair weights. The module attribute ``variogram_scorer`` is
    ``make_variogram_scorer()``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of draws per row, at least 1.
    p : float, default=0.5
        Order of the variogram, positive.
    {scorer_random_state}

    {returns_scorer}

    See Also
    --------
    variogram_score : The score itself.
    make_energy_scorer : The same for the energy score.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile.metrics import make_variogram_scorer
    >>> class AllZero:
    ...     def sample(self, X, n_samples, random_state=None):
    ...         return np.zeros((len(X), n_samples, 2))
    >>> scorer = make_variogram_scorer(n_samples=10, p=1.0)
    >>> scorer
    make_variogram_scorer(n_samples=10, p=1.0, random_state=0)
    >>> scorer(AllZero(), np.zeros((2, 1)), [[0.0, 1.0], [0.0, 0.0]])
    -1.0
    """
    return _sample_scorer(
        "make_variogram_scorer", variogram_score, n_samples, random_state, p=p
    )


crps_scorer = make_crps_scorer()
pinball_scorer = make_pinball_scorer()
energy_scorer = make_energy_scorer()
variogram_scorer = make_variogram_scorer()
