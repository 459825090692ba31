"""Saving fitted estimators without pickle: weights and plain data only.

``pickle`` and ``joblib`` files can run arbitrary code when loaded, so they
must only be loaded from trusted sources. :func:`save_model` writes a file
that holds nothing but tensors and plain Python containers (dicts, lists,
tuples, strings, numbers, booleans, ``None``): the module's weights, the
estimator's parameters, its fitted arrays and the training history.
:func:`load_model` reads it with torch's weights-only loader, which refuses
anything else, rebuilds the estimator and its network, and loads the
weights. No class named in the file is imported or called by the unpickler:
the estimator class is looked up by name among skquantile's own estimators.
"""

import numbers
import os

import numpy as np
import torch

from . import _plan
from ._version import __version__

#: Identifies the file format; bump the version on incompatible changes.
FORMAT = "skquantile.model"
FORMAT_VERSION = 1


def _estimator_classes():
    from ._convex import ConvexQuantileRegressor
    from ._incremental import IncrementalQuantileRegressor

    return {
        cls.__name__: cls
        for cls in (IncrementalQuantileRegressor, ConvexQuantileRegressor)
    }


def _encode(value, name):
    """Turn ``value`` into tensors and plain containers, tagging what is not."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.random.RandomState):
        kind, keys, position, has_gauss, cached = value.get_state()
        return {
            "__random_state__": [
                kind,
                torch.as_tensor(keys.astype(np.int64)),
                int(position),
                int(has_gauss),
                float(cached),
            ]
        }
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(value))}
        if value.dtype.kind in "OU" and all(isinstance(v, str) for v in value.flat):
            return {"__string_array__": [str(v) for v in value.flat]}
    elif isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    elif isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value
    elif isinstance(value, tuple):
        return tuple(_encode(item, name) for item in value)
    elif isinstance(value, list):
        return [_encode(item, name) for item in value]
    elif isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _encode(item, f"{name}[{key!r}]") for key, item in value.items()}
    raise TypeError(
        f"save_model cannot store {name}={value!r} of type {type(value).__name__}; "
        "only numbers, strings, None, numpy arrays of numbers or strings, "
        "RandomState instances and lists, tuples and dicts of them can be saved. "
        "Use pickle or joblib for estimators with other parameter values."
    )


def _decode(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return value["__ndarray__"].numpy().copy()
        if "__string_array__" in value:
            return np.asarray(value["__string_array__"], dtype=object)
        if "__random_state__" in value:
            kind, keys, position, has_gauss, cached = value["__random_state__"]
            state = np.random.RandomState()
            state.set_state(
                (kind, keys.numpy().astype(np.uint32), position, has_gauss, cached)
            )
            return state
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_decode(item) for item in value)
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def save_model(estimator, file):
    """Save a fitted skquantile estimator to a file that is safe to load.

    The file holds only tensors and plain data (see :func:`load_model`), so
    loading it cannot run code, unlike a pickle. Predictions of the loaded
    model are identical to those of the saved one.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`IncrementalQuantileRegressor` or
        :class:`ConvexQuantileRegressor`, or a
        :class:`CalibratedQuantileRegressor` over one of them (a calibrated
        pipeline pickles, but has no such file).
    file : str, os.PathLike or binary file object
        Where to write.

    Raises
    ------
    TypeError
        If ``estimator`` is not a skquantile estimator, or a parameter holds
        a value that is not plain data (e.g. a custom object).
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load_model : Read the file back.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from skquantile import IncrementalQuantileRegressor, load_model, save_model
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> model = IncrementalQuantileRegressor(max_epochs=2, random_state=0)
    >>> model = model.fit(X, X[:, 0])
    >>> buffer = io.BytesIO()
    >>> save_model(model, buffer)
    >>> _ = buffer.seek(0)
    >>> restored = load_model(buffer)
    >>> bool((restored.predict(X) == model.predict(X)).all())
    True
    """

    from ._conformal import CalibratedQuantileRegressor

    if type(estimator) is CalibratedQuantileRegressor:
        payload = _calibrated_payload(estimator)
    else:
        payload = _estimator_payload(estimator)
    torch.save(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "skquantile_version": __version__,
            **payload,
        },
        file,
    )


def _estimator_payload(estimator):
    """What the file holds of one of the estimators."""
    classes = _estimator_classes()
    name = type(estimator).__name__
    if classes.get(name) is not type(estimator):
        raise TypeError(
            "save_model saves skquantile estimators "
            f"({', '.join(sorted(classes))}) and CalibratedQuantileRegressor "
            f"over one of them, got {name}."
        )
    state = estimator._get_state()
    return {
        "class": name,
        "params": {
            key: _encode(value, key)
            for key, value in estimator.get_params(deep=False).items()
        },
        "fitted": {key: _encode(value, key) for key, value in state["fitted"].items()},
        "module": state["module"],
        "history": _encode(state["history"], "history"),
    }


#: The fitted attributes of a CalibratedQuantileRegressor that a file holds
#: besides its fitted estimator.
_CALIBRATION_ATTRIBUTES = (
    "cv_",
    "calibration_scores_",
    "calibration_weights_",
    "n_features_in_",
    "n_outputs_",
    "feature_names_in_",
)


def _calibrated_payload(model):
    """What the file holds of a CalibratedQuantileRegressor: its ``cv``, its
    calibration, and its fitted estimator (which must be one of the
    estimators, not a pipeline)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if type(model.estimator_).__name__ not in _estimator_classes():
        raise TypeError(
            "save_model saves a CalibratedQuantileRegressor whose estimator is a "
            f"skquantile estimator, not a {type(model.estimator_).__name__}; use "
            "pickle or joblib for a calibrated pipeline."
        )
    return {
        "class": type(model).__name__,
        "params": {"cv": _encode(model.cv, "cv"), "n_jobs": model.n_jobs},
        "fitted": {
            key: _encode(getattr(model, key), key)
            for key in _CALIBRATION_ATTRIBUTES
            if hasattr(model, key)
        },
        "estimator": _estimator_payload(model.estimator_),
    }


def load_model(file, device="cpu"):
    """Load an estimator saved by :func:`save_model`, without running code.

    The file is read by torch's weights-only unpickler
    (``torch.load(..., weights_only=True)``), which rebuilds tensors and plain
    containers only and refuses any other object, so a tampered file cannot
    execute code. The estimator is then rebuilt from its class name (one of
    skquantile's estimators), parameters and fitted arrays.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A file written by :func:`save_model`.
    device : str, default="cpu"
        torch device to put the network on, e.g. ``"cpu"`` for a model fitted
        on a GPU. It becomes the estimator's ``device`` parameter.

    Returns
    -------
    estimator : estimator
        The fitted estimator, of the class that was saved.

    Raises
    ------
    ValueError
        If the file is not a skquantile model file, or was written by a newer,
        incompatible version of the format.

    See Also
    --------
    save_model : Write such a file.
    """
    if isinstance(file, (str, os.PathLike)) and not os.path.isfile(file):
        raise ValueError(f"file {os.fspath(file)!r} does not exist.")
    try:
        payload = torch.load(file, map_location=device, weights_only=True)
    except Exception as error:  # the weights-only loader raises several types
        raise ValueError(
            f"file could not be read as a skquantile model file: {error}"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError("file is not a skquantile model file (see save_model).")
    if payload["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"file uses model format version {payload['format_version']}, newer "
            f"than this skquantile ({__version__}) reads ({FORMAT_VERSION}); "
            "upgrade skquantile."
        )
    if payload["class"] == "CalibratedQuantileRegressor":
        return _load_calibrated(payload, device)
    return _load_estimator(payload, device)


def _load_estimator(payload, device):
    cls = _estimator_classes().get(payload["class"])
    if cls is None:
        raise ValueError(f"file holds an unknown estimator {payload['class']!r}.")
    params = _decode(payload["params"])
    params["device"] = device
    fitted = {key: _decode(value) for key, value in payload["fitted"].items()}
    for migrate in MIGRATIONS:
        migrate(cls, params, fitted)
    return cls(**params)._set_state(
        {
            "fitted": fitted,
            "module": payload["module"],
            "history": _decode(payload["history"]),
        }
    )


def _load_calibrated(payload, device):
    from sklearn.base import clone

    from ._conformal import CalibratedQuantileRegressor

    estimator = _load_estimator(payload["estimator"], device)
    params = _decode(payload["params"])
    fitted = {key: _decode(value) for key, value in payload["fitted"].items()}
    template = estimator if params["cv"] == "prefit" else clone(estimator)
    return CalibratedQuantileRegressor(template, **params)._restore(estimator, fitted)


def _pooling_of_files_before_pooling(cls, params, fitted):
    """Files written before ``pooling`` existed averaged the members'
    quantile functions."""
    if "pooling" in cls().get_params() and "pooling" not in params:
        params["pooling"] = "quantiles"


def _sizes_of_files_before_resolved_sizes(cls, params, fitted):
    """Files written before a training size was resolved in fit lack its
    fitted attribute. The sizes configure training only, not the network
    whose weights are loaded, so the parameter stands in; for ``"auto"``
    the number of training rows is not stored, and the lower bound of the
    automatic value is used."""
    for attribute, fallback in (
        ("batch_size_", _plan.AUTO_BATCH[0]),
        ("max_epochs_", _plan.AUTO_EPOCHS[0]),
        ("n_iter_no_change_", _plan.AUTO_PATIENCE_EPOCHS),
    ):
        if attribute not in fitted:
            value = params.get(attribute[:-1], cls().get_params()[attribute[:-1]])
            fitted[attribute] = fallback if value == "auto" else value


def _members_of_files_before_ensembles(cls, params, fitted):
    """Files written before ensembles existed hold one network."""
    if "n_members_" not in fitted:
        fitted["n_members_"] = 1


#: How a file of an older skquantile is brought up to date, in order: each
#: step takes the estimator class, the parameters and the fitted attributes
#: read from the file, and completes them in place.
MIGRATIONS = (
    _pooling_of_files_before_pooling,
    _sizes_of_files_before_resolved_sizes,
    _members_of_files_before_ensembles,
)
