"""Categorical features inside the estimators: which columns, and their
one-hot encoding.

``categorical_features`` follows the vocabulary of scikit-learn's
histogram gradient boosting: ``"from_dtype"`` (the columns of a data frame
whose dtype is ``category``, a string dtype, or ``object`` holding values
that are not numbers), ``None`` (no column), a boolean mask, integer
indices, or column names.

A categorical column becomes one 0/1 input per level seen in training (at
most :data:`MAX_LEVELS`: the most frequent, by weight), an input for the
missing level when training had missing values there, and an "other" input
for the levels grouped for being rare when there were more. At prediction,
a level never seen in training counts as "other" when that input exists and
sets no input otherwise. Levels are compared as text, a whole number
written the same whether it arrives as an integer or a float (``3`` and
``3.0`` are one level).

The encoding is kept as plain arrays (the levels as strings and two flags
per column) rather than a fitted transformer, so that a fitted estimator
saved by :func:`~skquantile.save_model` holds no object to unpickle.
"""

import sys
from numbers import Integral, Real

import numpy as np

#: The most levels of one column that get an input of their own; rarer
#: levels share the column's "other" input. One-hot inputs grow the first
#: layer by one row of weights each, and a level seen a handful of times
#: carries little signal of its own.
MAX_LEVELS = 32


def is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _holds_text(values):
    """Whether an object column holds a value that is not a number or missing."""
    present = values[~_missing(values)]
    return any(not isinstance(value, (Real, np.bool_)) for value in present)


def _dtype_is_categorical(dtype, column):
    """Whether a data-frame column is categorical under ``"from_dtype"``."""
    name = str(dtype)
    if name == "category" or name.startswith("string") or name == "str":
        return True
    if getattr(dtype, "kind", None) == "O":
        return _holds_text(np.asarray(column, dtype=object))
    return False


def categorical_mask(categorical_features, X, n_features, feature_names):
    """The boolean mask of the categorical columns of ``X``.

    Parameters
    ----------
    categorical_features : {"from_dtype"}, array-like or None
        The estimator's parameter (see the module docstring).
    X : array-like or data frame
        The training features, as passed to ``fit``.
    n_features : int
        Number of columns of ``X``.
    feature_names : ndarray of str or None
        The column names of a data frame ``X``.

    Returns
    -------
    mask : ndarray of bool of shape (n_features,)
    """
    if categorical_features is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(categorical_features, str):
        if categorical_features != "from_dtype":
            raise ValueError(
                "categorical_features must be 'from_dtype', None, a boolean mask, "
                f"column indices or column names, got {categorical_features!r}."
            )
        if not is_frame(X):
            return np.zeros(n_features, dtype=bool)
        return np.array(
            [
                _dtype_is_categorical(dtype, X.iloc[:, j])
                for j, dtype in enumerate(X.dtypes)
            ],
            dtype=bool,
        )
    given = np.asarray(categorical_features)
    if given.ndim != 1:
        raise ValueError(
            "categorical_features must be a 1-d boolean mask, column indices or "
            f"column names, got an array of shape {given.shape}."
        )
    mask = np.zeros(n_features, dtype=bool)
    if given.size == 0:
        return mask
    if given.dtype.kind == "b":
        if len(given) != n_features:
            raise ValueError(
                f"categorical_features as a boolean mask must have one entry per "
                f"column of X ({n_features}), got {len(given)}."
            )
        return given.copy()
    if given.dtype.kind in "iu":
        if given.min() < -n_features or given.max() >= n_features:
            raise ValueError(
                f"categorical_features holds column indices outside "
                f"[0, {n_features}) for X with {n_features} columns: "
                f"{sorted(int(i) for i in given if not -n_features <= i < n_features)}."
            )
        mask[given] = True
        return mask
    if given.dtype.kind in "UO" and all(isinstance(v, str) for v in given):
        if feature_names is None:
            raise ValueError(
                "categorical_features names columns, but X has no column names; "
                "pass a data frame, or give column indices."
            )
        names = list(feature_names)
        unknown = [str(v) for v in given if v not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names column(s) that X does not have: {unknown}."
            )
        mask[[names.index(v) for v in given]] = True
        return mask
    raise ValueError(
        "categorical_features must be 'from_dtype', None, a boolean mask, integer "
        f"column indices or column names, got {categorical_features!r}."
    )


def _missing(values):
    """Which entries of an object array are missing (None, NaN, pandas' NA)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        return np.asarray(pandas.isna(values), dtype=bool)
    return np.array(
        [v is None or (isinstance(v, (float, np.floating)) and v != v) for v in values],
        dtype=bool,
    )


def _text(value):
    """A level as text; a whole number is written as an integer."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (Real, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def level_texts(column):
    """The entries of one categorical column as text, and where they are missing.

    Returns
    -------
    texts : ndarray of object (str, or None where missing)
    missing : ndarray of bool
    """
    values = np.asarray(column, dtype=object).ravel()
    missing = _missing(values)
    texts = np.empty(len(values), dtype=object)
    present = np.flatnonzero(~missing)
    if all(isinstance(value, str) for value in values[present]):
        texts[present] = values[present]  # the usual case: text already
    else:
        texts[present] = [_text(value) for value in values[present]]
    return texts, missing


def fit_levels(column, sample_weight):
    """The encoding of one categorical column learnt from training rows.

    Returns
    -------
    levels : ndarray of str
        The levels with an input of their own, most frequent (by weight)
        first, ties in text order.
    flags : ndarray of bool of shape (2,)
        Whether the column has a missing input and an "other" input.
    """
    texts, missing = level_texts(column)
    present = texts[~missing].astype(str)
    weight = np.asarray(sample_weight, dtype=np.float64)[~missing]
    unique, inverse = np.unique(present, return_inverse=True)
    totals = np.bincount(inverse, weights=weight, minlength=len(unique))
    order = np.lexsort((unique, -totals))
    # A level whose rows all weigh zero says nothing: it counts as unseen.
    order = order[totals[order] > 0]
    levels = unique[order[:MAX_LEVELS]]
    flags = np.array([bool(missing.any()), len(order) > MAX_LEVELS])
    return levels.astype(str), flags


def one_hot(column, levels, flags):
    """The 0/1 inputs of one categorical column, shape (n_rows, n_inputs)."""
    texts, missing = level_texts(column)
    n_levels = len(levels)
    has_missing, has_other = bool(flags[0]), bool(flags[1])
    out = np.zeros((len(texts), n_levels + has_missing + has_other))
    if has_missing:
        out[missing, n_levels] = 1.0
    present = np.flatnonzero(~missing)
    unique, inverse = np.unique(texts[present].astype(str), return_inverse=True)
    position = {level: k for k, level in enumerate(levels)}
    # The input of each distinct text: its level's, else "other" (or none).
    other = n_levels + has_missing if has_other else -1
    columns = np.array([position.get(text, other) for text in unique], dtype=np.intp)
    columns = columns[inverse.ravel()]
    known = columns >= 0
    out[present[known], columns[known]] = 1.0
    return out
