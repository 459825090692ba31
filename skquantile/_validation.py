"""Validation of data arrays and of the arguments of the query methods (levels,
coverages, counts)."""

import contextlib
import inspect
import re
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight


@contextlib.contextmanager
def naming_errors(name):
    """Make every ``ValueError`` or ``TypeError`` raised in the block name ``name``.

    scikit-learn's validation names the argument in most of its messages
    ("Input X contains NaN") but not in all ("Found array with dim 3",
    "Complex data not supported"); a message that does not mention ``name``
    is raised again, with the same type, prefixed by it.
    """
    try:
        yield
    except (TypeError, ValueError) as error:
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", str(error)):
            raise
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"Invalid {name}: {error}") from error


def reject_strings(value, name):
    """Refuse text data before NumPy silently parses numeric strings.

    Like scikit-learn's ``dtype="numeric"``, an array of strings is refused
    even when every string spells a number: converting it is left to the
    user. Strings that are not numbers are left to ``check_array``, whose
    message quotes the first of them. Object arrays (e.g. from pandas) go on
    to ``check_array`` too, which converts numbers and refuses anything else.
    """
    if value is None or sp.issparse(value) or hasattr(value, "dtypes"):
        return
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(value).dtype
        except (TypeError, ValueError):
            return  # Ragged or odd input: check_array explains the problem.
    if getattr(dtype, "kind", None) in ("U", "S"):
        try:
            np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return  # check_array names the first string that is not a number.
        raise ValueError(
            f"{name} must hold numbers, got an array of strings (dtype {dtype}); "
            "convert your data to numeric values explicitly."
        )


def check_numeric_array(value, name, **kwargs):
    """``check_array`` with float64 output and errors that always name ``name``.

    ``None``, strings, sparse matrices, complex numbers and NaN or infinite
    entries are refused; ``kwargs`` go to :func:`sklearn.utils.check_array`.
    """
    if value is None:
        raise ValueError(f"{name} must be an array of numbers, got None.")
    reject_strings(value, name)
    with naming_errors(name):
        return check_array(value, dtype=np.float64, input_name=name, **kwargs)


# scikit-learn 1.7 refuses all-zero weights unless told not to (1.6 accepts
# them); either way the check below raises the package's own message.
_ZERO_SUM = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def check_sample_weight(sample_weight, X):
    """Validate row weights: finite, non-negative, one per row, positive sum.

    ``None`` gives every row weight one and a scalar gives every row that
    weight. The weights are returned in float64, multiplied by a power of two
    (an exact scaling that keeps their ratios) so that the largest is in
    [0.5, 1): sums of many huge weights then cannot overflow.
    """
    reject_strings(sample_weight, "sample_weight")
    with naming_errors("sample_weight"):
        weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, **_ZERO_SUM
        )
    # A scalar weight skips scikit-learn's check for NaN and infinity.
    if np.isnan(weight).any():
        raise ValueError("Input sample_weight contains NaN.")
    if np.isinf(weight).any():
        raise ValueError("Input sample_weight contains infinity.")
    largest = weight.max()
    if not largest > 0:
        raise ValueError("sample_weight must have a positive sum, got all zeros.")
    return np.ldexp(weight, -np.frexp(largest)[1])


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
