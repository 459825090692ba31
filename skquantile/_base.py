"""Shared fitting machinery of the neural quantile-function estimators."""

import functools
import hashlib
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.history import History

from . import _categorical, _training
from ._docstrings import PREDICT_PARAMETERS, shared_parameters
from ._layers import ACTIVATIONS
from ._plan import AutoDefaults, held_out_rows, plan_fit
from ._threads import with_threads
from ._validation import (
    check_coverage,
    check_levels,
    check_n_samples,
    check_numeric_array,
    check_sample_weight,
    naming_errors,
    reject_dates,
    reject_strings,
)

#: Sparse formats that the estimators accept for ``X`` (densified: the
#: networks' first layer is dense, and one-hot encoded data, the usual sparse
#: input, has few columns next to the rows).
_SPARSE_FORMATS = ("csr", "csc", "coo")


def _dense(X):
    """``X`` as a dense array (a sparse matrix or array is densified)."""
    return np.ascontiguousarray(X.toarray()) if sp.issparse(X) else X


def quantiles_of_draws(draws, levels, scalar):
    """Each target's quantiles at ``levels`` of joint ``draws`` of shape
    (n_rows, n_draws, n_outputs): (n_rows, n_outputs, n_levels), or without
    the levels axis for a ``scalar`` level."""
    quantiles = np.moveaxis(np.quantile(draws, levels, axis=1), 0, -1)
    return quantiles[..., 0] if scalar else quantiles


def _data_digest(X, Y, sample_weight):
    """A fingerprint of training data, to recognise them after the fit."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (X, Y, sample_weight):
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.data)
    return digest.hexdigest()


def _restore_on_failure(fit):
    """Leave the estimator as it was before ``fit`` if ``fit`` does not finish.

    Whatever stops a fit (bad input, a diverging loss, a ``KeyboardInterrupt``
    before the first epoch ends), the estimator is never left half
    initialised: it keeps its previous fitted state, or stays unfitted. A
    Ctrl-C after a complete epoch (:class:`~skquantile._training.FitInterrupted`)
    leaves the estimator fitted with its best epoch, and propagates.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        state = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except _training.FitInterrupted:
            raise  # fit kept the best complete epoch before raising it
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper


#: A count of at least one, or "auto" (resolved from the data in ``fit``).
_POSITIVE_OR_AUTO = [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})]


class BaseQuantileNetwork(RegressorMixin, BaseEstimator):
    """Base class: validation, standardisation and skorch training.

    Subclasses define the torch module (``_module_spec``) and the criterion
    (``_criterion``); this class turns ``(X, y, sample_weight)`` into
    standardised float32 tensors, trains a :class:`skorch.NeuralNet` on them
    and gives float64 access to the fitted module.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "max_epochs": _POSITIVE_OR_AUTO,
        "batch_size": _POSITIVE_OR_AUTO,
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": _POSITIVE_OR_AUTO,
        "n_members": _POSITIVE_OR_AUTO,
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str],
        "categorical_features": [None, StrOptions({"from_dtype"}), "array-like"],
        "n_jobs": [
            None,
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
        ],
    }

    #: Whether several targets are modelled jointly (their marginal quantiles
    #: then have no closed form and are estimated from joint draws).
    _joint = False

    @property
    def _levels_per_target(self):
        """Whether the fitted ``predict_quantile`` takes one level per target
        (a joint model of a 2-d target) rather than levels shared by the
        targets."""
        return self._joint and self._y_ndim == 2

    @abstractmethod
    def _module_spec(self, n_features, n_outputs):
        """Return the module class and its keyword arguments."""

    @abstractmethod
    def _criterion(self):
        """Return the criterion class, called with (module output, target), and
        its keyword arguments."""

    @_restore_on_failure
    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y, sample_weight=None):
        """Fit the quantile function of ``y`` given ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features. Missing values (NaN) are filled with the
            column's mean and flagged by an extra 0/1 input per column that
            has them; a sparse matrix is densified. Categorical columns (see
            ``categorical_features``; by default the ``category``, string and
            text columns of a data frame) are one-hot encoded inside.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets. The columns of a 2-d ``y`` get independent quantile
            functions in :class:`IncrementalQuantileRegressor` and one joint
            quantile map in :class:`ConvexQuantileRegressor`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows; ``None`` gives every row weight
            one. An integer weight is equivalent to repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not isinstance(self.hidden_layer_sizes, str):
            # Checked before the data, so that a bad size fails fast; "auto"
            # depends on the number of targets and is resolved below.
            self._check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        self._check_device()
        self._check_structure()
        X = self._validated_features(X, reset=True, sample_weight=sample_weight)
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but "
                "the target y is None."
            )
        Y = check_numeric_array(y, "y", ensure_2d=False)
        if len(Y) != len(X):
            raise ValueError(
                f"X and y must have one row per sample, but X has {len(X)} rows "
                f"and y has {len(Y)}."
            )
        self._y_ndim = Y.ndim
        Y = Y.reshape(len(Y), -1)
        self.n_outputs_ = Y.shape[1]
        hidden_layer_sizes = self._hidden_layer_sizes()
        sample_weight = check_sample_weight(sample_weight, X)
        self._fit_digest = _data_digest(X, Y, sample_weight)
        X = self._fit_missing_values(X, sample_weight)
        plan = plan_fit(
            X,
            Y,
            sample_weight,
            self._auto_defaults(),
            self.get_params(deep=False),
            one_hot=self._one_hot_inputs(),
        )
        self._fit_seed = plan.seed
        self._x_mean, self._x_scale = plan.x_mean, plan.x_scale
        self._y_mean, self._y_scale = plan.y_mean, plan.y_scale
        self.n_members_ = plan.n_members
        self.batch_size_ = plan.batch_size
        self.max_epochs_ = plan.max_epochs
        self.n_iter_no_change_ = plan.patience
        interruption = None
        try:
            self.net_ = _training.fit_network(
                *self._network_spec(X.shape[1], hidden_layer_sizes),
                plan.features,
                plan.target,
                validation=plan.validation,
                per_member_validation=plan.per_member_validation,
                seed=plan.seed,
                patience_growth=plan.patience_growth,
                **self._training_options(),
            )
        except _training.FitInterrupted as error:
            # Ctrl-C after a complete epoch: keep the best epoch, then let the
            # interruption stop the caller too (a loop, a search).
            self.net_, interruption = error.net, error
            error.net = None
        self.n_iter_ = len(self.net_.history)
        # The patience in effect when training ended (it can have grown).
        self.n_iter_no_change_ = dict(self.net_.callbacks_)["early_stopping"].patience_
        if interruption is not None:
            raise interruption
        return self

    #: The fitted attributes that, with the network's weights and training
    #: history, make up a fitted estimator (:meth:`_get_state`); a subclass
    #: adds its own. Anything else set in ``fit`` is not part of the state.
    _state_attributes = (
        "n_features_in_",
        "feature_names_in_",
        "n_outputs_",
        "_y_ndim",
        "_categorical_columns",
        "_category_levels",
        "_category_flags",
        "_missing_columns",
        "_missing_fill",
        "_fit_seed",
        "_fit_digest",
        "_x_mean",
        "_x_scale",
        "_y_mean",
        "_y_scale",
        "n_members_",
        "batch_size_",
        "max_epochs_",
        "n_iter_no_change_",
        "n_iter_",
    )

    def _get_state(self):
        """The fitted state: the state attributes that are set, the
        network's weights (on the CPU) and its training history."""
        check_is_fitted(self)
        return {
            "fitted": {
                name: getattr(self, name)
                for name in self._state_attributes
                if hasattr(self, name)
            },
            "module": {
                key: tensor.detach().cpu()
                for key, tensor in self.net_.module_.state_dict().items()
            },
            "history": list(self.net_.history),
        }

    def _set_state(self, state):
        """Restore a state of :meth:`_get_state` into this (unfitted)
        estimator: its attributes, then the network rebuilt from the
        parameters on ``device``, with the saved weights and history.
        Attributes that are not state attributes are ignored."""
        self._check_device()
        for name, value in state["fitted"].items():
            if name in self._state_attributes:
                setattr(self, name, value)
        net, _ = _training.make_network(
            *self._network_spec(len(self._x_mean), self._hidden_layer_sizes()),
            **self._training_options(),
        )
        net.initialize()
        net.module_.load_state_dict(state["module"])
        net.history = History(state["history"])
        self.net_ = net
        return self

    #: What the ``"auto"`` parameters resolve to for one target and for
    #: several (:class:`~skquantile._plan.AutoDefaults`); each estimator
    #: declares its own.
    _auto_one_target = AutoDefaults()
    _auto_several_targets = AutoDefaults()

    def _auto_defaults(self):
        """The automatic defaults for the fitted number of targets."""
        if self.n_outputs_ == 1:
            return self._auto_one_target
        return self._auto_several_targets

    def _hidden_layer_sizes(self):
        """The hidden layer sizes of the network body, checked (``n_outputs_``
        is known here); ``"auto"`` sizes are recorded in
        ``hidden_layer_sizes_``."""
        auto = self._auto_defaults().hidden_layer_sizes
        if auto is None:
            return self._check_layer_sizes(
                self.hidden_layer_sizes, "hidden_layer_sizes"
            )
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, str):  # "auto"
            sizes = auto
        self.hidden_layer_sizes_ = self._check_layer_sizes(sizes, "hidden_layer_sizes")
        return self.hidden_layer_sizes_

    def _training_options(self):
        """The keyword arguments of :func:`_training.make_network` that come
        from the estimator's parameters (``"auto"`` sizes as resolved in fit)."""
        return {
            "max_epochs": self.max_epochs_,
            "batch_size": self.batch_size_,
            "learning_rate_init": self.learning_rate_init,
            "weight_decay": self.weight_decay,
            "n_iter_no_change": self.n_iter_no_change_,
            "tol": self.tol,
            "device": self.device,
            "verbose": self.verbose,
        }

    def _network_spec(self, n_features, hidden_layer_sizes):
        """The module class, its parameters, the criterion class and its
        parameters, for ``n_features`` features and ``n_outputs_`` targets."""
        module, module_params = self._module_spec(n_features, self.n_outputs_)
        module_params["hidden_layer_sizes"] = hidden_layer_sizes
        module_params["activation"] = self.activation
        return (module, module_params, *self._criterion())

    @staticmethod
    def _check_layer_sizes(sizes, name, allow_empty=True):
        original = sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not sizes and not allow_empty:
            raise ValueError(
                f"{name} must hold at least one layer size, got {original!r}."
            )
        if not all(
            isinstance(size, Integral) and not isinstance(size, bool) and size > 0
            for size in sizes
        ):
            raise ValueError(f"{name} must hold positive integers, got {original!r}.")
        return tuple(int(size) for size in sizes)

    def _check_structure(self):
        """Check and resolve what the data does not decide (a subclass hook).

        Runs in ``fit`` after sklearn's parameter validation and before the
        data are read, so a bad parameter fails with its own message before
        any work is done.
        """

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, ValueError) as error:
            raise ValueError(
                f"device must name a torch device such as 'cpu' or 'cuda', got "
                f"{self.device!r}."
            ) from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested, but torch sees no CUDA GPU."
            )

    def _validated_features(self, X, reset=False, sample_weight=None):
        """Validate the features ``X``, naming ``X`` in every error.

        With ``reset=True`` (in ``fit``) the number and names of the features
        are recorded and the validated array is returned, missing values
        (NaN) included. Otherwise the estimator must be fitted, ``X`` must
        match the training features, missing values are filled and flagged
        as in training (:meth:`_with_missing_indicators`), and the
        standardised features are returned in float64 (inference precision).
        """
        X = self._validated_array(X, reset, sample_weight)
        if reset:
            return X
        return (self._with_missing_indicators(X) - self._x_mean) / self._x_scale

    def _validated_array(self, X, reset, sample_weight=None):
        """``X`` validated (:meth:`_validated_features`), as it was given but
        for its categorical columns, replaced by their one-hot inputs
        (:meth:`_encoded_categories`); ``sample_weight`` weighs the levels'
        frequencies in ``fit``."""
        if not reset:
            check_is_fitted(self)
        if X is None:
            raise ValueError("X must be an array of numbers, got None.")
        reject_dates(X, "X")
        if self._may_have_categories(X, reset):
            return self._encoded_categories(X, reset, sample_weight)
        if reset:
            self._categorical_columns = np.empty(0, dtype=np.intp)
            self._category_levels = []
            self._category_flags = np.empty((0, 2), dtype=bool)
        reject_strings(X, "X")
        with naming_errors("X"):
            X = _dense(
                validate_data(
                    self,
                    X,
                    reset=reset,
                    dtype=[np.float64, np.float32],
                    accept_sparse=_SPARSE_FORMATS,
                    ensure_all_finite="allow-nan",
                )
            )
        return X

    def _one_hot_inputs(self):
        """Indices of the one-hot inputs of the categorical columns among the
        network's inputs (after the numeric columns, before the missing-value
        indicators)."""
        n_numeric = self.n_features_in_ - len(self._categorical_columns)
        width = sum(
            len(levels) + int(flags.sum())
            for levels, flags in zip(
                self._category_levels, self._category_flags, strict=True
            )
        )
        return range(n_numeric, n_numeric + width)

    def _may_have_categories(self, X, reset):
        """Whether ``X`` may hold categorical columns: in ``fit``, a data frame
        under ``categorical_features="from_dtype"`` or any explicit choice of
        columns; afterwards, whether the fit found any."""
        if not reset:
            return len(getattr(self, "_categorical_columns", ())) > 0
        spec = self.categorical_features
        if spec is None:
            return False
        if isinstance(spec, str) and spec == "from_dtype":
            return _categorical.is_frame(X)
        return True

    def _encoded_categories(self, X, reset, sample_weight):
        """``X`` with its numeric columns validated as numbers (missing values
        kept) followed by the one-hot inputs of its categorical columns
        (:mod:`~skquantile._categorical`). In ``fit`` the categorical columns
        are chosen and their levels learnt; afterwards ``X`` must have the
        training columns."""
        with naming_errors("X"):
            if sp.issparse(X):
                X = X.toarray()
            frame = _categorical.is_frame(X)
            if not frame:
                X = np.asarray(X, dtype=object)
                if X.ndim != 2:
                    raise ValueError(
                        f"Expected a 2-d array for X, got an array of shape {X.shape}."
                    )
            validate_data(self, X, reset=reset, skip_check_array=True)
            if reset:
                mask = _categorical.categorical_mask(
                    self.categorical_features,
                    X,
                    self.n_features_in_,
                    getattr(self, "feature_names_in_", None),
                )
                self._categorical_columns = np.flatnonzero(mask)
            else:
                mask = np.zeros(self.n_features_in_, dtype=bool)
                mask[self._categorical_columns] = True

            def columns(selected):
                return X.iloc[:, selected] if frame else X[:, selected]

            numeric = np.flatnonzero(~mask)
            n_rows = X.shape[0]
            if len(numeric):
                part = columns(numeric)
                reject_strings(part, "X")
                part = check_array(
                    part,
                    dtype=[np.float64, np.float32],
                    input_name="X",
                    ensure_all_finite="allow-nan",
                )
            else:
                part = np.empty((n_rows, 0))
            if reset:
                weight = check_sample_weight(sample_weight, part)
                fitted = [
                    _categorical.fit_levels(np.asarray(columns([j])), weight)
                    for j in self._categorical_columns
                ]
                self._category_levels = [levels for levels, _ in fitted]
                self._category_flags = np.array(
                    [flags for _, flags in fitted], dtype=bool
                ).reshape(-1, 2)
            encoded = [
                _categorical.one_hot(np.asarray(columns([j])), levels, flags)
                for j, levels, flags in zip(
                    self._categorical_columns,
                    self._category_levels,
                    self._category_flags,
                    strict=True,
                )
            ]
        return np.hstack([part.astype(np.float64), *encoded])

    def _fit_missing_values(self, X, sample_weight):
        """Record which training columns have missing values (NaN) and return
        ``X`` with them filled by the column's weighted mean and one 0/1
        indicator column appended per such column (``_missing_columns``).

        Filled with the mean, a missing value is 0 after standardisation (the
        mean of the filled column is that same mean), and the indicator lets
        the network learn what missingness itself says about the target.
        """
        missing = np.isnan(X)
        self._missing_columns = np.flatnonzero(missing.any(axis=0))
        weight = np.where(missing, 0.0, sample_weight[:, None])
        total = weight.sum(axis=0)
        values = np.where(missing, 0.0, X.astype(np.float64))
        self._missing_fill = (weight * values).sum(axis=0) / np.where(
            total > 0, total, 1.0
        )
        return self._with_missing_indicators(X)

    def _with_missing_indicators(self, X):
        """``X`` in float64 with its missing values filled as in training and
        the indicators of ``_missing_columns`` appended. A column without
        missing values in training gets no indicator; a missing value there
        is filled with the training mean all the same."""
        X = X.astype(np.float64)
        missing = np.isnan(X)
        # Estimators saved before missing values were handled have neither.
        columns = getattr(self, "_missing_columns", np.empty(0, dtype=np.intp))
        if not missing.any() and not len(columns):
            return X
        fill = getattr(self, "_missing_fill", None)
        if fill is None:
            fill = self._x_mean[: X.shape[1]]
        indicators = missing[:, columns].astype(np.float64)
        return np.hstack([np.where(missing, fill, X), indicators])

    def _check_targets(self, y, n_rows, name="y", allow_infinite=False):
        """Validate one target value (or vector) per row, shaped like ``y`` in fit.

        ``name`` is the argument's name in the calling method, used in errors;
        ``allow_infinite`` lets infinite values through (NaN never).
        """
        if allow_infinite:
            y = check_numeric_array(y, name, ensure_2d=False, ensure_all_finite=False)
            if np.isnan(y).any():
                raise ValueError(f"Input {name} contains NaN.")
        else:
            y = check_numeric_array(y, name, ensure_2d=False)
        expected = (n_rows,) + ((self.n_outputs_,) if self._y_ndim == 2 else ())
        if y.shape != expected:
            raise ValueError(
                f"{name} must have shape {expected} (one target value per row of "
                f"X), got {y.shape}."
            )
        return y

    def _cdf(self, X, y, evaluate):
        """``evaluate(features, y)`` at the finite entries of ``y``: the
        distribution function is 0 at ``-inf`` and 1 at ``+inf``."""
        features = self._validated_features(X)
        y = self._check_targets(y, len(features), allow_infinite=True)
        finite = np.isfinite(y)
        if finite.all():
            return evaluate(features, y)
        cdf = evaluate(features, np.where(finite, y, 0.0))
        return np.where(finite, cdf, (y > 0).astype(np.float64))

    @with_threads
    def _held_out_scores(self, X, y, sample_weight=None):
        """Calibration scores of the rows that the fit held out.

        ``X``, ``y`` and ``sample_weight`` must be the data ``fit`` was
        called with; the held-out rows are drawn again from them exactly as
        the fit drew them (:func:`~skquantile._plan.held_out_rows`), and each
        is scored (:meth:`_calibration_scores`) by the members that did not
        train on it, pooled as the ensemble pools its members.

        Returns
        -------
        scores : ndarray of shape (n_held_out, n_scores)
        weight : ndarray of shape (n_held_out,)
            The rows' weights (merged duplicates weigh as many rows).
        """
        check_is_fitted(self)
        if not hasattr(self, "_fit_seed"):
            raise ValueError(
                f"This {type(self).__name__} was saved by a version of skquantile "
                "that did not record its held-out rows; refit it to calibrate on "
                "them, or calibrate on separate rows."
            )
        X = self._validated_array(X, reset=False)
        Y = check_numeric_array(y, "y", ensure_2d=False)
        Y = Y.reshape(len(Y), -1) if len(Y) == len(X) else Y
        sample_weight = check_sample_weight(sample_weight, X)
        if len(Y) != len(X) or _data_digest(X, Y, sample_weight) != self._fit_digest:
            raise ValueError(
                "The held-out rows of a fit can only be scored on the data the "
                "estimator was fitted on (X, y and sample_weight as passed to "
                "fit), and these data differ."
            )
        rows = held_out_rows(
            self._with_missing_indicators(X),
            Y,
            sample_weight,
            self.get_params(deep=False),
            self.n_members_,
            self._fit_seed,
        )
        if rows is None:
            raise ValueError(
                f"This {type(self).__name__} held no rows out while training, so "
                "it has no held-out rows to calibrate on: early_stopping=False, "
                f"or {len(X)} sample(s) are too few to hold any out."
            )
        X_held, Y_held, weight, held_out = rows
        features = (X_held - self._x_mean) / self._x_scale
        scores = self._calibration_scores(features, Y_held, held_out)
        return scores, weight

    def _calibration_scores(self, features, Y, members=None):
        """Scores of observed targets ``Y`` (n, n_outputs) under the model,
        uniform on (0, 1) if the model is calibrated: one column per
        target's probability integral transform, or one column for the
        central regions of a joint model. ``features`` are validated and
        standardised; ``members`` (boolean, (n, n_members)) restricts each
        row to some members, pooled as the ensemble pools them."""
        raise NotImplementedError

    def _float64_chunks(self, features, cpu_chunk_size=4096, other_chunk_size=65536):
        """Yield ``(rows, module, chunk)``: a float64 copy of the fitted module
        (made once) and the features of each chunk of rows, as a float64
        tensor on the module's device, without gradients.

        ``features`` are validated and standardised
        (:meth:`_validated_features`). On the CPU the chunks are small
        (``cpu_chunk_size`` rows), so that the activations of a chunk stay in
        the processor's caches: on 1e5 rows 4096-row chunks halve the time
        of ``predict_quantile`` against chunks of 65536 rows, with identical
        results. An accelerator gets chunks of ``other_chunk_size`` rows.
        """
        module = _training.float64_copy(self.net_.module_)
        device = self.net_.device
        cpu = torch.device(device).type == "cpu"
        chunk_size = cpu_chunk_size if cpu else other_chunk_size
        with torch.no_grad():
            for start in range(0, len(features), chunk_size):
                rows = slice(start, start + chunk_size)
                chunk = torch.as_tensor(
                    features[rows], dtype=torch.float64, device=device
                )
                yield rows, module, chunk

    def _squeeze(self, values, axis):
        """Drop the outputs ``axis`` of ``values`` when the target was 1-d."""
        return np.take(values, 0, axis=axis) if self._y_ndim == 1 else values

    @with_threads
    @shared_parameters(PREDICT_PARAMETERS)
    def predict_marginal_quantile(self, X, alpha, n_samples=1000, random_state=0):
        """Predict the quantiles of each target on its own.

        Where the marginal quantiles have a closed form (one target, or the
        independent marginals of :class:`IncrementalQuantileRegressor`) this
        is exactly :meth:`predict_quantile`. For several targets of
        :class:`ConvexQuantileRegressor` they are estimated from
        ``n_samples`` joint draws per row (the map is joint; its marginals
        have no closed form).

        {marginal_quantile_parameters}

        Returns
        -------
        ndarray
            (n_samples_X,) or (n_samples_X, n_levels) for one target;
            (n_samples_X, n_outputs) or (n_samples_X, n_outputs, n_levels) for
            several.
        """
        levels, scalar = check_levels(alpha)
        n_samples = check_n_samples(n_samples)
        check_is_fitted(self)
        if self._y_ndim == 1 or not self._joint:
            return self.predict_quantile(X, alpha)
        draws = self.sample(X, n_samples, random_state=random_state)
        return quantiles_of_draws(draws, levels, scalar)

    @with_threads
    def predict_interval(self, X, coverage=0.9):
        """Predict central prediction intervals of each target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        coverage : float, default=0.9
            Probability mass of each interval, strictly inside (0, 1); the
            bounds are the marginal quantiles at ``(1 - coverage) / 2`` and
            ``(1 + coverage) / 2`` (see :meth:`predict_marginal_quantile`).

        Returns
        -------
        ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper bounds.
        """
        coverage = check_coverage(coverage)
        levels = np.array([(1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0])
        return self.predict_marginal_quantile(X, levels)

    @staticmethod
    def _check_finite_output(values, rows_axis=0):
        """Refuse predictions that overflowed instead of returning them.

        The networks extrapolate: far enough from the training features their
        output overflows to infinity or NaN. That is reported as an error
        about ``X`` rather than returned as a prediction.
        """
        finite = np.isfinite(values)
        if finite.all():
            return values
        bad = np.flatnonzero(~finite.reshape(values.shape[rows_axis], -1).all(axis=1))
        raise ValueError(
            f"X lies too far outside the training data: the model's output "
            f"overflows (infinity or NaN) for {len(bad)} row(s), the first being "
            f"row {bad[0]}. Check the features of these rows (units, scaling)."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
