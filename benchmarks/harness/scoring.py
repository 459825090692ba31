"""The one scoring module of the benchmarks: every runner scores through here.

Scores are computed from predictions only (quantiles, draws, region
memberships), never by a model's own code, with the functions of
:mod:`skquantile.metrics`. Timings and model sizes are measured here too, so
every model is timed the same way.

Conventions
-----------
- ``LEVELS``: the 19 levels 0.05, 0.10, ..., 0.95 that every model predicts
  (the per-level boosting peers are fitted at exactly these).
- ``MIDPOINTS``: the 99 midpoint levels ``(i - 0.5) / 99`` used for the CRPS
  of models with a whole quantile function.
- The 90% interval is ``[Q(0.05), Q(0.95)]`` taken from the 19-level
  prediction. A model whose two quantiles cross there gets the interval
  between the smaller and the larger one (its crossings are reported by the
  crossing rate).
"""

import pickle
import time

import numpy as np

from skquantile import metrics

LEVELS = np.round(np.linspace(0.05, 0.95, 19), 10)
MIDPOINTS = metrics.midpoint_levels(99)
_LOW, _MEDIAN, _HIGH = 0, 9, 18  # positions of 0.05, 0.5 and 0.95 in LEVELS


def median_time(function, repeats=3, budget=5.0):
    """Median wall time of ``function()`` and its last result.

    ``function`` runs ``repeats`` times, or once when a single run already
    takes longer than ``budget`` seconds (then repeating is not cheap).
    """
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        if times[0] > budget:
            break
    return float(np.median(times)), result


def timed(function):
    """Wall time of one call of ``function()`` and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def pickled_megabytes(obj):
    """Size of ``obj`` pickled with the highest protocol, in MB (1e6 bytes)."""
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6


def _interval(quantiles):
    """The 90% interval from 19-level quantiles, bounds in increasing order."""
    pair = quantiles[..., [_LOW, _HIGH]]
    return np.sort(pair, axis=-1)


def score_quantiles(y, quantiles, quantiles_full=None):
    """Scores of univariate quantile predictions.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Test targets.
    quantiles : ndarray of shape (n, 19)
        Predictions at ``LEVELS``.
    quantiles_full : ndarray of shape (n, 99) or None
        Predictions at ``MIDPOINTS`` for models with a whole quantile
        function; ``None`` for models fitted at the 19 levels only.

    Returns
    -------
    dict
        ``pinball19`` mean pinball loss over the 19 levels; ``crps19`` twice
        that (the CRPS restricted to [0.05, 0.95], comparable across every
        model); ``crps99`` the CRPS from the 99 midpoint levels (NaN without
        a whole quantile function); ``pinball05``, ``pinball50``,
        ``pinball95``; ``calibration`` the calibration error over the 19
        levels; ``coverage90``, ``width90`` and ``interval_score90`` of the
        90% interval; ``crossing`` the crossing rate on the finest grid the
        model predicts (99 levels if it can, else 19) and ``crossing_grid``
        that grid's size.
    """
    y = np.asarray(y, dtype=np.float64)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    pinball = metrics.mean_pinball_loss(y, quantiles, LEVELS)
    interval = _interval(quantiles)
    scores = {
        "pinball19": pinball,
        "crps19": 2.0 * pinball,
        "crps99": np.nan,
        "pinball05": metrics.mean_pinball_loss(y, quantiles[:, _LOW], 0.05),
        "pinball50": metrics.mean_pinball_loss(y, quantiles[:, _MEDIAN], 0.5),
        "pinball95": metrics.mean_pinball_loss(y, quantiles[:, _HIGH], 0.95),
        "calibration": metrics.calibration_error(y, quantiles, LEVELS),
        "coverage90": metrics.interval_coverage(y, interval),
        "width90": metrics.interval_width(interval),
        "interval_score90": metrics.interval_score(y, interval, 0.9),
        "crossing": metrics.quantile_crossing_rate(quantiles, LEVELS),
        "crossing_grid": len(LEVELS),
    }
    if quantiles_full is not None:
        quantiles_full = np.asarray(quantiles_full, dtype=np.float64)
        scores["crps99"] = metrics.crps_from_quantiles(y, quantiles_full, MIDPOINTS)
        scores["crossing"] = metrics.quantile_crossing_rate(quantiles_full, MIDPOINTS)
        scores["crossing_grid"] = len(MIDPOINTS)
    return {key: float(value) for key, value in scores.items()}


def joint_box_levels(n_outputs, coverage=0.9):
    """Marginal levels of the box region of an independent model.

    For a model whose targets are independent, the box of central marginal
    intervals of coverage ``coverage ** (1 / d)`` each has joint coverage
    ``coverage``: the product of the marginal coverages.
    """
    marginal = coverage ** (1.0 / n_outputs)
    return np.array([(1.0 - marginal) / 2.0, (1.0 + marginal) / 2.0])


def box_contains(Y, bounds):
    """Whether each row of ``Y`` (n, d) lies in its box ``bounds`` (n, d, 2)."""
    Y = np.asarray(Y, dtype=np.float64)
    lower, upper = np.min(bounds, axis=-1), np.max(bounds, axis=-1)
    return np.all((lower <= Y) & (Y <= upper), axis=1)


def score_joint(Y, draws, region_inside):
    """Scores of joint predictions of several targets.

    Parameters
    ----------
    Y : ndarray of shape (n, d)
        Test target vectors.
    draws : ndarray of shape (n, S, d)
        Joint draws from each row's predicted distribution.
    region_inside : ndarray of bool, shape (n,)
        Whether each ``Y`` lies in the model's 90% joint region.

    Returns
    -------
    dict
        ``energy`` the energy score (beta 1); ``variogram`` the variogram
        score (order 0.5, equal weights); ``crps_per_target`` the sample
        CRPS of each target (list); ``crps_mean`` their mean;
        ``joint_coverage90`` the share of rows inside the region.
    """
    Y = np.asarray(Y, dtype=np.float64)
    draws = np.asarray(draws, dtype=np.float64)
    per_target = metrics.crps_from_samples(Y, draws, multioutput="raw_values")
    return {
        "energy": float(metrics.energy_score(Y, draws)),
        "variogram": float(metrics.variogram_score(Y, draws)),
        "crps_per_target": [float(value) for value in per_target],
        "crps_mean": float(np.mean(per_target)),
        "joint_coverage90": float(np.mean(region_inside)),
    }
