"""Validation of the arguments of the query methods (levels, coverages, counts)."""

from numbers import Integral

import numpy as np


def check_levels(alpha, name="alpha"):
    """Validate quantile levels.

    Parameters
    ----------
    alpha : float or array-like of shape (n_levels,)
        Levels, each strictly inside (0, 1).
    name : str, default="alpha"
        Name of the argument, used in error messages.

    Returns
    -------
    levels : ndarray of shape (n_levels,)
        The levels as float64.
    scalar : bool
        Whether ``alpha`` was a scalar.
    """
    array = np.asarray(alpha)
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must be a number or a 1-d array of numbers in (0, 1), got "
            f"{alpha!r} (dtype {array.dtype})."
        )
    if array.ndim > 1:
        raise ValueError(
            f"{name} must be a number or a 1-d array of levels, got an array of "
            f"shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one level, got an empty array.")
    levels = array.astype(np.float64).ravel()
    bad = ~((levels > 0.0) & (levels < 1.0))
    if bad.any():
        raise ValueError(
            f"{name} must lie strictly inside (0, 1); got {float(levels[bad][0])!r}."
        )
    return levels, array.ndim == 0


def check_coverage(coverage):
    """Validate the probability mass of a central interval or region."""
    if isinstance(coverage, (bool, np.bool_)) or not isinstance(
        coverage, (Integral, float, np.integer, np.floating)
    ):
        raise ValueError(f"coverage must be a number in (0, 1), got {coverage!r}.")
    if not 0.0 < coverage < 1.0:
        raise ValueError(
            f"coverage must lie strictly inside (0, 1), got {float(coverage)!r}."
        )
    return float(coverage)


def check_n_samples(n_samples, name="n_samples"):
    """Validate a number of draws (or points): a positive integer."""
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(
        n_samples, (Integral, np.integer)
    ):
        raise TypeError(f"{name} must be an integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"{name} must be at least 1, got {n_samples}.")
    return int(n_samples)
