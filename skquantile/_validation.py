"""Argument checks of the estimators, the metrics and the plots: data arrays,
row weights, levels, coverages, counts, quantile tables and intervals. Every
error names the argument."""

import contextlib
import inspect
import re
from numbers import Integral, Real

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


def _reject_text_columns(frame, name):
    """Refuse the columns of a data frame that do not hold numbers, by name.

    A text or categorical column would otherwise fail inside NumPy with a
    message that quotes a value but not its column.
    """
    bad = []
    for column, dtype in zip(frame.columns, frame.dtypes, strict=True):
        if getattr(dtype, "kind", "O") in "biuf":
            continue
        try:
            np.asarray(frame[column], dtype=np.float64)
        except (TypeError, ValueError):
            bad.append(f"{column!r} ({dtype})")
    if bad:
        raise ValueError(
            f"{name} must hold numbers, but column(s) {', '.join(bad)} hold text "
            "or categories. Declare them categorical (the estimators' "
            "categorical_features parameter, 'from_dtype' by default), or "
            "encode them first, for example with "
            "sklearn.preprocessing.OneHotEncoder in a "
            "sklearn.compose.ColumnTransformer before the estimator in a Pipeline."
        )


def reject_dates(value, name):
    """Refuse the date and duration columns of a data frame, by name: NumPy
    would fail to combine them with numbers in a message that names neither
    the column nor a fix."""
    if not (hasattr(value, "dtypes") and hasattr(value, "columns")):
        return
    bad = [
        f"{column!r} ({dtype})"
        for column, dtype in zip(value.columns, value.dtypes, strict=True)
        if getattr(dtype, "kind", "O") in "mM"
    ]
    if bad:
        raise ValueError(
            f"{name} must hold numbers, but column(s) {', '.join(bad)} hold dates "
            "or durations. Turn them into numbers first (for example the days "
            "since a reference date, or the day of the week or of the year), "
            "or drop them."
        )


def reject_strings(value, name):
    """Refuse text data before NumPy silently parses numeric strings.

    Like scikit-learn's ``dtype="numeric"``, an array of strings is refused
    even when every string spells a number: converting it is left to the
    user. Strings that are not numbers are left to ``check_array``, whose
    message quotes the first of them. Object arrays (e.g. from pandas) go on
    to ``check_array`` too, which converts numbers and refuses anything else.
    """
    if hasattr(value, "dtypes") and hasattr(value, "columns"):
        _reject_text_columns(value, name)
        return
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


def check_finite_array(value, name):
    """Convert ``value`` to a finite float64 array, naming it in any error.

    Arrays of strings are refused, even of strings that spell numbers.
    """
    reject_strings(value, name)
    try:
        return check_array(
            value, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name=name
        )
    except (TypeError, ValueError) as exc:
        if name in str(exc):
            raise
        error = TypeError if isinstance(exc, TypeError) else ValueError
        raise error(f"{name} is not a valid numeric array: {exc}") from exc


def describe_shape(leading, last):
    """Spell a shape whose last axis has a symbolic name, e.g. ``(5, n_levels)``."""
    return "(" + ", ".join([str(size) for size in leading] + [last]) + ")"


def check_target(y_true):
    """Return ``y_true`` as an (n_samples, n_outputs) array and its given shape."""
    y = check_finite_array(y_true, "y_true")
    if y.ndim not in (1, 2):
        raise ValueError(
            "y_true must have shape (n_samples,) or (n_samples, n_outputs), got "
            f"shape {y.shape}."
        )
    return y.reshape(len(y), -1), y.shape


def check_row_weights(sample_weight, n_samples):
    """Return finite non-negative row weights with a positive sum (ones for
    ``None``), scaled by a power of two so that the largest is below one."""
    return check_sample_weight(sample_weight, np.empty((n_samples, 0)))


def check_target_quantiles(y_true, y_quantiles, alpha, *, default_levels=None):
    """Validate targets, their predicted quantiles and the levels together.

    Returns ``y`` of shape (n_samples, n_outputs), the quantiles of shape
    (n_samples, n_outputs, n_levels) and the levels of shape (n_levels,).
    ``alpha=None`` is refused unless ``default_levels(n_levels)`` gives the
    levels then.
    """
    y, target_shape = check_target(y_true)
    quantiles = check_finite_array(y_quantiles, "y_quantiles")
    if alpha is None and default_levels is not None:
        levels, scalar = None, False
    else:
        levels, scalar = check_levels(alpha)
    # A scalar level may come with quantiles lacking the levels axis, exactly
    # as ``predict_quantile`` returns them for a scalar level.
    if scalar and quantiles.shape == target_shape:
        quantiles = quantiles[..., None]
    if quantiles.shape[:-1] != target_shape or quantiles.ndim != len(target_shape) + 1:
        raise ValueError(
            "y_quantiles must have the shape of y_true followed by a levels axis, "
            f"{describe_shape(target_shape, 'n_levels')}, got shape "
            f"{quantiles.shape}."
        )
    n_levels = quantiles.shape[-1]
    if n_levels == 0:
        raise ValueError("y_quantiles must hold at least one level, got none.")
    if levels is None:
        levels = default_levels(n_levels)
    elif len(levels) != n_levels:
        raise ValueError(
            f"alpha holds {len(levels)} level(s) but y_quantiles has {n_levels} "
            "quantile(s) along its last axis."
        )
    return y, quantiles.reshape(*y.shape, n_levels), levels


def check_interval(interval, target_shape=None):
    """Return the lower and upper bounds, each of shape (n_samples, n_outputs)."""
    bounds = check_finite_array(interval, "interval")
    if target_shape is None:
        valid = bounds.ndim in (2, 3) and bounds.shape[-1] == 2
        expected = "(n_samples, 2) or (n_samples, n_outputs, 2)"
    else:
        valid = bounds.shape == target_shape + (2,)
        expected = (
            f"{describe_shape(target_shape, '2')} to match y_true of shape "
            f"{target_shape},"
        )
    if not valid:
        raise ValueError(
            f"interval must have shape {expected} with the lower and upper bounds "
            f"along its last axis, got shape {bounds.shape}."
        )
    lower = bounds[..., 0].reshape(len(bounds), -1)
    upper = bounds[..., 1].reshape(len(bounds), -1)
    reversed_rows = int(np.count_nonzero(lower > upper))
    if reversed_rows:
        raise ValueError(
            f"interval has a lower bound above its upper bound in {reversed_rows} "
            "place(s); each interval must satisfy lower <= upper."
        )
    return lower, upper


def check_coverages(coverages, name="coverages"):
    """Validate coverages in (0, 1); return them unique, widest first."""
    if isinstance(coverages, Real) and not isinstance(coverages, (bool, np.bool_)):
        coverages = [coverages]
    try:
        array = np.asarray(coverages)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers in (0, 1).") from exc
    if array.dtype.kind not in "iuf" or array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-d sequence of numbers in (0, 1), got "
            f"{coverages!r}."
        )
    array = array.astype(np.float64)
    if not np.all((array > 0.0) & (array < 1.0)):
        raise ValueError(f"{name} must lie strictly inside (0, 1), got {coverages!r}.")
    return np.unique(array)[::-1]


def check_vector(values, name, length=None):
    """A finite 1-d float array, of ``length`` entries when given."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-d array of numbers.") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got an array of shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers only.")
    if length is not None and len(array) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(array)}.")
    return array


def check_quantile_columns(quantiles, n_levels, name="quantiles", n_rows=None):
    """A finite array of shape (n_rows, n_levels)."""
    try:
        array = np.asarray(quantiles, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-d array of numbers.") from exc
    if array.ndim != 2 or array.shape[1] != n_levels:
        raise ValueError(
            f"{name} must have shape (n_samples, {n_levels}) (one column per "
            f"level), got shape {array.shape}."
        )
    if n_rows is not None and array.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows, got {array.shape[0]}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers only.")
    return array
