"""skpro probabilistic regressor and distribution backed by a skquantile model.

This module is optional: it needs skpro (``pip install "skquantile[skpro]"``)
and is not imported by ``import skquantile``. It provides

- :class:`SkquantileProbaRegressor`, a skpro probabilistic regressor that
  fits a skquantile estimator (or a pipeline ending in one) on pandas data;
- :class:`SkquantileDistribution`, the skpro distribution that its
  ``predict_proba`` returns, whose quantile function, distribution function
  and draws are those of the fitted model itself.

Through skpro the estimators plug into sktime's reduction forecasters (see
the user guide, :ref:`skpro`).
"""

import copy
import functools
from numbers import Integral

import numpy as np
from scipy import special
from sklearn.base import clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted

from ._docstrings import shared_parameters
from ._incremental import IncrementalQuantileRegressor
from ._pipelines import final_step, fitted_network, transform_for_final_step

try:
    import pandas as pd
    from skpro.distributions.base import BaseDistribution
    from skpro.regression.base import BaseProbaRegressor
    from skpro.utils.sklearn import prep_skl_df
except ImportError as error:  # pragma: no cover - exercised by a test
    raise ImportError(
        "skquantile.skpro needs the optional dependencies skpro and pandas, "
        f"which could not be imported ({error}). Install them with: "
        'pip install "skquantile[skpro]"'
    ) from error

try:  # skbase's clone plugins (private API, present in the versions skpro uses)
    from skbase.base._clone_plugins import BaseCloner
except ImportError:  # pragma: no cover
    BaseCloner = object

__all__ = ["SkquantileDistribution", "SkquantileProbaRegressor"]

#: The parameters section of skbase's ``get_test_params``, shared by both classes.
_TEST_PARAMETERS = {
    "test_parameters": """Parameters
----------
parameter_set : str, default="default"
    Name of the set of test parameters; only ``"default"`` exists.""",
}

#: The moment quadrature integrates over the latent normal variable
#: ``z = Phi^{-1}(a)`` on ``[-QUADRATURE_BOUND, QUADRATURE_BOUND]``, cut into
#: ``QUADRATURE_PANELS`` equal panels of ``QUADRATURE_ORDER`` Gauss-Legendre
#: nodes each: 2048 levels, from about 6e-16 to 1 - 6e-16.
QUADRATURE_BOUND = 8.0
QUADRATURE_PANELS = 256
QUADRATURE_ORDER = 8

#: Rows per block of the moment quadrature (a block holds rows x 2048 levels).
MOMENT_BLOCK_ROWS = 256

#: Half-width of the central difference of ``pdf``, as a share of the
#: entry's interquartile range: small against the pieces of a quantile
#: function, large enough that the difference of two distribution-function
#: values (exact to about 1e-16) keeps about nine digits.
PDF_STEP = 1e-6

#: At most this many distinct levels are evaluated at once for every row by
#: ``ppf``; beyond that each row is evaluated at its own levels.
SHARED_LEVELS_LIMIT = 256


@functools.cache
def _moment_levels():
    """Levels and weights of the moment quadrature.

    Returns
    -------
    levels : ndarray of shape (n_nodes,)
        ``Phi(z)`` at the Gauss-Legendre nodes ``z`` of every panel.
    weights : ndarray of shape (n_nodes,)
        The nodes' weights times the normal density, scaled to sum to one,
        so that ``sum(weights * Q(levels))`` approximates the integral of
        ``Q`` over (0, 1).
    """
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_ORDER)
    edges = np.linspace(-QUADRATURE_BOUND, QUADRATURE_BOUND, QUADRATURE_PANELS + 1)
    centres = (edges[1:] + edges[:-1]) / 2.0
    half_widths = (edges[1:] - edges[:-1]) / 2.0
    z = (centres[:, None] + half_widths[:, None] * nodes).ravel()
    weights = (half_widths[:, None] * weights).ravel() * np.exp(-0.5 * z**2)
    levels, weights = special.ndtr(z), weights / weights.sum()
    # Computed once and shared (cached): read-only, so no caller can alter them.
    levels.flags.writeable = weights.flags.writeable = False
    return levels, weights


def _network(estimator):
    """The skquantile network inside ``estimator``: itself, the final step
    of a pipeline or a frozen wrapper, or the fitted (else the unfitted)
    estimator of a calibrated wrapper, recursively."""
    final = final_step(estimator)
    if (
        getattr(final, "estimator_", None) is None
        and hasattr(final, "cv")
        and hasattr(final, "estimator")
    ):
        # An unfitted CalibratedQuantileRegressor; None is its default.
        inner = final.estimator
        return _network(IncrementalQuantileRegressor() if inner is None else inner)
    return fitted_network(final)


def _is_joint(estimator):
    """Whether ``estimator`` models several targets jointly, as
    :class:`~skquantile.ConvexQuantileRegressor` does (see :func:`_network`)."""
    return bool(getattr(_network(estimator), "_joint", False))


def _target_ndim(estimator):
    """1 if the fitted ``estimator`` was fitted on a 1-d target, else 2."""
    return getattr(_network(estimator), "_y_ndim", 2)


def _joint_error(n_targets):
    return NotImplementedError(
        f"ConvexQuantileRegressor models the {n_targets} targets jointly: the "
        "quantile function and distribution function of each target on its own "
        "(its marginal) have no closed form, so they cannot be given exactly as "
        "a skpro distribution needs them (one law per column). Fit one target "
        "column per model, or use IncrementalQuantileRegressor, whose targets "
        "have independent, exact marginals."
    )


def _as_model_features(X):
    """``X`` as skpro holds it, as the scikit-learn model takes it: a
    DataFrame keeps its rows; column names that are not all strings become
    strings (scikit-learn refuses mixed names)."""
    if isinstance(X, pd.DataFrame):
        return prep_skl_df(X, copy_df=True)
    return X


class _KeepFittedModel(BaseCloner):
    """skbase clone plugin: a fitted model held by a distribution is copied
    with its fitted state (a scikit-learn clone would drop it); it is the
    distribution's data, not a hyper-parameter."""

    def _check(self, obj):
        if not callable(getattr(obj, "predict_quantile", None)):
            return False
        check_is_fitted(obj)  # raises, so the plugin does not apply, if unfitted
        return True

    def _clone(self, obj):
        return copy.deepcopy(obj)


def _positions(length, subset):
    """Integer positions that ``subset`` (None, an integer, a slice, a list,
    an array or a boolean mask) selects among ``length`` positions."""
    positions = np.arange(length)
    if subset is None:
        return positions
    if isinstance(subset, slice):
        return positions[subset]
    return positions[np.atleast_1d(np.asarray(subset))]


class SkquantileDistribution(BaseDistribution):
    """The conditional distributions of a fitted skquantile model at given rows.

    Row ``i`` and column ``j`` of the distribution hold the law of target
    ``targets[j]`` given feature row ``X[i]``. The quantile function
    (``ppf``), the distribution function (``cdf``) and the draws
    (``sample``) are the fitted model's own ``predict_quantile``,
    ``predict_cdf`` and ``sample`` for these rows: exact, not estimated
    from draws. Usually made by :meth:`SkquantileProbaRegressor.predict_proba`.

    Parameters
    ----------
    estimator : estimator
        A fitted skquantile estimator (such as
        :class:`~skquantile.IncrementalQuantileRegressor`), or any fitted
        object with the methods ``predict_quantile``, ``predict_cdf`` and
        ``sample`` of the skquantile estimators. For a pipeline, pass its
        final step and the features transformed by the steps before it.
    X : array-like or DataFrame of shape (n_rows, n_features)
        Feature rows, as ``estimator`` takes them.
    targets : array-like of int, int or None, default=None
        Which targets of the model the columns hold: ``None`` is every
        target in order, a list gives one column per entry; an integer makes
        a scalar distribution (``X`` must then have one row).
    random_state : int, RandomState instance or None, default=None
        Seeds ``sample``. ``None`` draws from NumPy's global random state
        (as skpro's own distributions do); an integer gives the same draws
        at every call.
    index : pandas.Index, default=None
        Row labels; ``None`` is a ``RangeIndex`` over the rows of ``X``.
    columns : pandas.Index, default=None
        Column labels; ``None`` is a ``RangeIndex`` over the targets.

    See Also
    --------
    SkquantileProbaRegressor : The skpro regressor that makes these.

    Notes
    -----
    The mean and the variance are integrals of the quantile function,
    ``E[Y] = int_0^1 Q(a) da`` and ``Var[Y] = int_0^1 (Q(a) - E[Y])^2 da``,
    computed with the substitution ``a = Phi(z)`` (``Phi`` the standard
    normal distribution function) as ``E[Q(Phi(Z))]`` for a standard normal
    ``Z``: composite Gauss-Legendre quadrature with 256 panels of 8 nodes on
    ``z`` in [-8, 8], 2048 levels from about 6e-16 to 1 - 6e-16. In ``z``
    the exponential tails of :class:`~skquantile.IncrementalQuantileRegressor`
    grow like ``z ** 2`` against a Gaussian weight, so the levels beyond the
    grid change the moments by less than 1e-12 of the scale. The error comes
    from the kinks of a piecewise-linear quantile function: against sixteen
    times more nodes, the mean and the standard deviation agree to within
    about 1e-5 of the standard deviation for linear pieces (``n_pieces=1``)
    and about 1e-3 for splines (``n_pieces > 1``), whose narrowest pieces can
    be finer than the grid. The smooth map of
    :class:`~skquantile.ConvexQuantileRegressor` is integrated to rounding
    error. ``energy`` (hence skpro's CRPS) uses the same nodes.
    ``pdf`` is the central difference of the exact ``cdf`` over
    :data:`PDF_STEP` times the entry's interquartile range on each side
    (``log_pdf`` its logarithm): the exact density, to about 1e-9 relative,
    inside a linear piece of the quantile function and on the smooth map of
    the convex estimator; within that distance of a knot of a
    piecewise-linear quantile function, where the density jumps, a value
    between the densities of both sides. ``pdfnorm`` is skpro's Monte Carlo
    default.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile import IncrementalQuantileRegressor
    >>> from skquantile.skpro import SkquantileDistribution
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(200, 1))
    >>> y = 3 * X[:, 0] + rng.normal(scale=0.5, size=200)
    >>> model = IncrementalQuantileRegressor(
    ...     hidden_layer_sizes=(16,), n_members=1, max_epochs=10, random_state=0
    ... ).fit(X, y)
    >>> distribution = SkquantileDistribution(model, X[:3])
    >>> distribution.shape
    (3, 1)
    >>> bool(np.allclose(distribution.ppf(0.9).to_numpy()[:, 0],
    ...                  model.predict_quantile(X[:3], 0.9)))
    True
    """

    _tags = {
        "authors": ["skquantile developers"],
        "capabilities:exact": ["ppf", "cdf"],
        "capabilities:approx": ["mean", "var", "energy", "pdf", "log_pdf"],
        "distr:measuretype": "continuous",
        "distr:paramtype": "nonparametric",
        "broadcast_init": "off",
    }

    def __init__(
        self, estimator, X, targets=None, random_state=None, index=None, columns=None
    ):
        self.estimator = estimator
        self.X = X
        self.targets = targets
        self.random_state = random_state

        for method in ("predict_quantile", "predict_cdf", "sample"):
            if not callable(getattr(estimator, method, None)):
                raise TypeError(
                    f"estimator must be a fitted skquantile estimator with a "
                    f"{method} method, got {type(estimator).__name__}. For a "
                    "pipeline pass its final step and the transformed features."
                )
        n_outputs = getattr(estimator, "n_outputs_", 1)
        if _is_joint(estimator) and n_outputs > 1:
            raise _joint_error(n_outputs)
        if _is_joint(estimator) and _target_ndim(estimator) != 1:
            raise NotImplementedError(
                "This ConvexQuantileRegressor was fitted on a 2-d target, for "
                "which it has no distribution function; fit it on a 1-d target."
            )
        self._n_outputs = n_outputs
        self._scalar = isinstance(targets, Integral)
        self._targets = self._checked_targets(targets, n_outputs)
        n_rows = len(X)
        if self._scalar:
            if n_rows != 1:
                raise ValueError(
                    "A scalar distribution (an integer targets) needs exactly one "
                    f"row of X, got {n_rows}."
                )
        else:
            if index is None:
                index = pd.RangeIndex(n_rows)
            if columns is None:
                columns = pd.RangeIndex(len(self._targets))
            if len(index) != n_rows or len(columns) != len(self._targets):
                raise ValueError(
                    f"index and columns must have one label per row of X ({n_rows})"
                    f" and per target ({len(self._targets)}), got {len(index)} "
                    f"and {len(columns)}."
                )
        super().__init__(index=index, columns=columns)

    @classmethod
    def _get_clone_plugins(cls):
        return None if BaseCloner is object else [_KeepFittedModel]

    @staticmethod
    def _checked_targets(targets, n_outputs):
        """The target indices as an integer array, checked against the model."""
        if targets is None:
            return np.arange(n_outputs)
        indices = np.atleast_1d(np.asarray(targets))
        if (
            indices.ndim != 1
            or indices.dtype.kind not in "iu"
            or ((indices < 0) | (indices >= n_outputs)).any()
        ):
            raise ValueError(
                f"targets must be None, or integers from 0 to {n_outputs - 1} "
                f"(the model has {n_outputs} target(s)), got {targets!r}."
            )
        return indices.astype(np.intp)

    # ------------------------------------------------------------------
    # Subsetting: rows of X and targets follow the index and the columns.

    def _rows(self, rows):
        if isinstance(self.X, (pd.DataFrame, pd.Series)):
            return self.X.iloc[rows]
        return np.asarray(self.X)[rows]

    def _iloc(self, rowidx=None, colidx=None):
        if np.isscalar(rowidx) and np.isscalar(colidx):
            return self._iat(rowidx, colidx)
        rows = _positions(len(self.X), rowidx)
        columns = _positions(len(self._targets), colidx)
        return type(self)(
            estimator=self.estimator,
            X=self._rows(rows),
            targets=self._targets[columns].tolist(),
            random_state=self.random_state,
            index=self.index.take(rows),
            columns=self.columns.take(columns),
        )

    def _iat(self, rowidx=None, colidx=None):
        if rowidx is None or colidx is None:
            raise ValueError("iat needs both a row and a column position.")
        return type(self)(
            estimator=self.estimator,
            X=self._rows([rowidx]),
            targets=int(self._targets[colidx]),
            random_state=self.random_state,
        )

    # ------------------------------------------------------------------
    # Access to the model.

    def _all_quantiles(self, X, levels):
        """Quantiles (n_rows, n_outputs, n_levels) of the model at levels
        shared by the rows of ``X``, whatever the shape of the target."""
        quantiles = self.estimator.predict_quantile(X, levels)
        if quantiles.ndim == 2:
            quantiles = quantiles[:, None, :]
        return quantiles

    def _quantiles(self, X, levels):
        """Quantiles (n_rows, n_columns, n_levels) of this distribution's
        targets at shared levels."""
        return self._all_quantiles(X, levels)[:, self._targets, :]

    def _as_matrix(self, values):
        """Entry-wise values as an (n_rows, n_columns) float array."""
        shape = (1, 1) if self._scalar else self.shape
        return np.broadcast_to(np.asarray(values, dtype=np.float64), shape)

    def _as_output(self, matrix):
        return matrix[0, 0] if self._scalar else matrix

    def _ppf(self, p):
        p = self._as_matrix(p)
        result = np.full(p.shape, np.nan)
        result[p == 0.0] = -np.inf
        result[p == 1.0] = np.inf
        inside = (p > 0.0) & (p < 1.0)
        if inside.any():
            levels, positions = np.unique(p[inside], return_inverse=True)
            if len(levels) <= SHARED_LEVELS_LIMIT:
                quantiles = self._quantiles(self.X, levels)
                rows, columns = np.nonzero(inside)
                result[rows, columns] = quantiles[rows, columns, positions.ravel()]
            else:
                for row in np.flatnonzero(inside.any(axis=1)):
                    columns = np.flatnonzero(inside[row])
                    row_levels = p[row, columns]
                    quantiles = self._quantiles(self._rows([row]), row_levels)
                    result[row, columns] = quantiles[
                        0, columns, np.arange(len(columns))
                    ]
        return self._as_output(result)

    def _cdf(self, x):
        x = self._as_matrix(x)
        result = np.full(x.shape, np.nan)
        result[x == np.inf] = 1.0
        result[x == -np.inf] = 0.0
        finite = np.isfinite(x)
        rows = np.flatnonzero(finite.any(axis=1))
        if len(rows):
            values = np.zeros((len(rows), self._n_outputs))
            # Targets that a column does not hold (or holds at a missing
            # value) are evaluated at zero and discarded: the marginals are
            # independent, so they do not change the others.
            values[:, self._targets] = np.where(finite[rows], x[rows], 0.0)
            if _target_ndim(self.estimator) == 1:
                values = values[:, 0]
            cdf = self.estimator.predict_cdf(self._rows(rows), values)
            cdf = cdf.reshape(len(rows), -1)[:, self._targets]
            result[rows] = np.where(finite[rows], cdf, result[rows])
        return self._as_output(result)

    def _pdf(self, x):
        x = self._as_matrix(x)
        quartiles = self._quantiles(self.X, [0.25, 0.75])
        step = PDF_STEP * (quartiles[..., 1] - quartiles[..., 0])
        # A point mass has no spread to scale the step by: a step relative
        # to the value then (its density is infinite at the point, zero
        # elsewhere).
        step = np.where(step > 0.0, step, PDF_STEP * np.maximum(np.abs(x), 1.0))
        finite = np.isfinite(x)
        inside = np.where(finite, x, 0.0)
        upper = np.asarray(self._cdf(inside + step), dtype=np.float64)
        lower = np.asarray(self._cdf(inside - step), dtype=np.float64)
        density = np.where(finite, (upper - lower) / (2.0 * step), 0.0)
        return self._as_output(np.where(np.isnan(x), np.nan, density))

    def _log_pdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self._pdf(x))

    def _draws(self, n_samples):
        """Draws (n_rows, n_samples, n_columns) of the model."""
        random_state = check_random_state(self.random_state)
        draws = self.estimator.sample(self.X, n_samples, random_state=random_state)
        if draws.ndim == 2:
            draws = draws[..., None]
        return draws[..., self._targets]

    def _sample(self, n_samples=None):
        draws = self._draws(1 if n_samples is None else n_samples)
        if self._scalar:
            if n_samples is None:
                return draws[0, 0, 0]
            return pd.DataFrame(draws[0, :, 0])
        frames = [
            pd.DataFrame(draws[:, k, :], index=self.index, columns=self.columns)
            for k in range(draws.shape[1])
        ]
        if n_samples is None:
            return frames[0]
        return pd.concat(frames, keys=range(n_samples))

    # ------------------------------------------------------------------
    # Integrals of the quantile function (see the class Notes).

    def _integrals(self, integrand):
        """``sum_k w_k f(Q(a_k), a_k)`` per entry, by blocks of rows, where
        ``integrand(quantiles, levels, rows)`` gets quantiles of shape
        (n_block_rows, n_columns, n_levels)."""
        levels, weights = _moment_levels()
        n_rows = len(self.X)
        result = np.empty((n_rows, len(self._targets)))
        for start in range(0, n_rows, MOMENT_BLOCK_ROWS):
            rows = np.arange(start, min(start + MOMENT_BLOCK_ROWS, n_rows))
            quantiles = self._quantiles(self._rows(rows), levels)
            result[rows] = integrand(quantiles, levels, rows) @ weights
        return result

    def _mean(self):
        return self._as_output(
            self._integrals(lambda quantiles, levels, rows: quantiles)
        )

    def _var(self):
        def centred_square(quantiles, levels, rows):
            _, weights = _moment_levels()
            mean = quantiles @ weights
            return (quantiles - mean[..., None]) ** 2

        return self._as_output(self._integrals(centred_square))

    def _energy_self(self):
        # E|Y - Y'| = int_0^1 Q(a) (4a - 2) da for independent copies Y, Y'.
        energy = self._integrals(
            lambda quantiles, levels, rows: quantiles * (4.0 * levels - 2.0)
        )
        return energy[0, 0] if self._scalar else energy.sum(axis=1)

    def _energy_x(self, x):
        x = self._as_matrix(x)

        def absolute_error(quantiles, levels, rows):
            return np.abs(quantiles - x[rows][..., None])

        energy = self._integrals(absolute_error)
        return energy[0, 0] if self._scalar else energy.sum(axis=1)

    @classmethod
    @shared_parameters(_TEST_PARAMETERS)
    def get_test_params(cls, parameter_set="default"):
        """Return testing parameter settings for the distribution.

        {test_parameters}

        Returns
        -------
        params : list of dict
            A two-row distribution of a small fitted incremental model, and
            one column of a two-target model with named rows and column.
        """
        rng = np.random.RandomState(0)
        X = rng.uniform(size=(60, 2))
        Y = X @ [[1.0, -1.0], [2.0, 0.5]] + rng.normal(scale=0.3, size=(60, 2))
        options = {
            "hidden_layer_sizes": (8,),
            "n_knots": 5,
            "n_members": 1,
            "max_epochs": 3,
            "random_state": 0,
        }
        one = IncrementalQuantileRegressor(**options).fit(X, Y[:, 0])
        two = IncrementalQuantileRegressor(**options).fit(X, Y)
        return [
            {"estimator": one, "X": X[:2], "random_state": 0},
            {
                "estimator": two,
                "X": X[:3],
                "targets": [1],
                "index": pd.Index(["a", "b", "c"]),
                "columns": pd.Index(["second"]),
            },
        ]


class SkquantileProbaRegressor(BaseProbaRegressor):
    """skpro probabilistic regressor backed by a skquantile estimator.

    Fits a clone of ``estimator`` on pandas (or NumPy) data and answers
    skpro's probabilistic queries with the fitted model's whole quantile
    function: ``predict_proba`` returns a :class:`SkquantileDistribution`
    whose ``ppf``, ``cdf`` and ``sample`` are the model's own exact
    ``predict_quantile``, ``predict_cdf`` and ``sample``;
    ``predict_quantiles`` and ``predict_interval`` call ``predict_quantile``
    directly; ``predict`` and ``predict_var`` return the mean and the
    variance, integrals of the quantile function (see
    :class:`SkquantileDistribution` for their accuracy). The row index of
    ``X`` and the column names of ``y`` are kept in every output.

    Parameters
    ----------
    estimator : estimator, default=None
        An unfitted :class:`~skquantile.IncrementalQuantileRegressor`,
        :class:`~skquantile.ConvexQuantileRegressor` or
        :class:`~skquantile.CalibratedQuantileRegressor`, or a
        :class:`~sklearn.pipeline.Pipeline` whose final step is one. ``None``
        is :class:`~skquantile.IncrementalQuantileRegressor` at its
        defaults. Several target columns are supported where their marginal
        laws are exact: the independent targets of the incremental estimator.
        The joint model of the convex estimator is refused for several
        columns (its marginals have no closed form).

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    feature_names_in_ : ndarray
        Column names of ``X`` seen in ``fit``.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.

    See Also
    --------
    SkquantileDistribution : The distributions returned by ``predict_proba``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skquantile import IncrementalQuantileRegressor
    >>> from skquantile.skpro import SkquantileProbaRegressor
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> y = y.to_frame()
    >>> regressor = SkquantileProbaRegressor(
    ...     IncrementalQuantileRegressor(
    ...         hidden_layer_sizes=(16,), n_members=1, max_epochs=10, random_state=0
    ...     )
    ... )
    >>> regressor = regressor.fit(X.iloc[:200], y.iloc[:200])
    >>> distribution = regressor.predict_proba(X.iloc[200:203])
    >>> distribution.ppf(0.9).shape
    (3, 1)
    >>> regressor.predict_interval(X.iloc[200:203], coverage=0.9).columns.tolist()
    [('target', 0.9, 'lower'), ('target', 0.9, 'upper')]
    """

    _tags = {
        "authors": ["skquantile developers"],
        "capability:multioutput": True,
        "capability:missing": True,
        "capability:survival": False,
        "X_inner_mtype": "pd_DataFrame_Table",
        "y_inner_mtype": "pd_DataFrame_Table",
    }

    def __init__(self, estimator=None):
        self.estimator = estimator
        super().__init__()
        if estimator is not None and hasattr(estimator, "__sklearn_tags__"):
            # Anything else is refused by fit, with its own message.
            allow_nan = get_tags(estimator).input_tags.allow_nan
            self.set_tags(
                **{
                    "capability:multioutput": not _is_joint(estimator),
                    "capability:missing": bool(allow_nan),
                }
            )

    def _fit(self, X, y):
        """Fit a clone of ``estimator`` to ``X`` and ``y`` (pandas DataFrames).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Features.
        y : pandas.DataFrame of shape (n_samples, n_targets)
            Targets; one column is fitted as a 1-d target.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        estimator = (
            IncrementalQuantileRegressor() if self.estimator is None else self.estimator
        )
        final = final_step(estimator)
        for method in ("predict_quantile", "predict_cdf", "sample"):
            if not callable(getattr(final, method, None)):
                raise TypeError(
                    "estimator must be a skquantile estimator, or a Pipeline whose "
                    f"final step is one (with a {method} method), got "
                    f"{type(final).__name__}."
                )
        n_targets = y.shape[1]
        if n_targets > 1 and _is_joint(estimator):
            raise _joint_error(n_targets)
        target = y.to_numpy(dtype=np.float64)
        self.estimator_ = clone(estimator).fit(
            _as_model_features(X), target[:, 0] if n_targets == 1 else target
        )
        return self

    def _final(self, X):
        """The fitted skquantile model and ``X`` as it takes it."""
        features = _as_model_features(X)
        return final_step(self.estimator_), transform_for_final_step(
            self.estimator_, features
        )

    def _predict_proba(self, X):
        """The model's conditional distributions at the rows of ``X``.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Features.

        Returns
        -------
        SkquantileDistribution
            With the index of ``X`` and the columns of ``y``.
        """
        final, features = self._final(X)
        return SkquantileDistribution(
            final,
            features,
            index=X.index,
            columns=pd.Index(self._get_columns(method="predict")),
        )

    def _predict(self, X):
        """The mean of each row's predicted law (see :meth:`_predict_proba`)."""
        return self._predict_proba(X).mean()

    def _predict_var(self, X):
        """The variance of each row's predicted law (see :meth:`_predict_proba`)."""
        return self._predict_proba(X).var()

    def _model_quantiles(self, X, levels):
        """Quantiles (n_rows, n_targets * n_levels), target-major."""
        final, features = self._final(X)
        quantiles = final.predict_quantile(features, np.asarray(levels, dtype=float))
        return quantiles.reshape(len(quantiles), -1)

    def _predict_quantiles(self, X, alpha):
        """The model's exact quantiles at the levels ``alpha`` (a list in (0, 1))
        of the rows of the frame ``X``: a frame with columns (target name,
        level) and the index of ``X``."""
        columns = self._get_columns(method="predict_quantiles", alpha=alpha)
        return pd.DataFrame(
            self._model_quantiles(X, alpha), index=X.index, columns=columns
        )

    def _predict_interval(self, X, coverage):
        """Central intervals of the coverages in the list ``coverage`` for the
        rows of the frame ``X``, from the exact quantiles at ``(1 - c) / 2``
        and ``(1 + c) / 2``: a frame with columns (target name, coverage,
        "lower"/"upper") and the index of ``X``."""
        levels = [
            level for c in coverage for level in ((1.0 - c) / 2.0, (1.0 + c) / 2.0)
        ]
        columns = self._get_columns(method="predict_interval", coverage=coverage)
        return pd.DataFrame(
            self._model_quantiles(X, levels), index=X.index, columns=columns
        )

    @classmethod
    @shared_parameters(_TEST_PARAMETERS)
    def get_test_params(cls, parameter_set="default"):
        """Return testing parameter settings for the regressor.

        Small, fast fits: a one-layer incremental network, the same inside a
        scaling pipeline, and a small convex network.

        {test_parameters}

        Returns
        -------
        params : list of dict
            Parameters of the test instances.
        """
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        from ._convex import ConvexQuantileRegressor

        incremental = {
            "hidden_layer_sizes": (8,),
            "n_knots": 5,
            "n_members": 1,
            "max_epochs": 3,
            "random_state": 0,
        }
        convex = ConvexQuantileRegressor(
            hidden_layer_sizes=(8,),
            potential_layer_sizes=(8,),
            n_members=1,
            n_energy_samples=8,
            max_epochs=3,
            random_state=0,
        )
        return [
            {"estimator": IncrementalQuantileRegressor(**incremental)},
            {
                "estimator": make_pipeline(
                    StandardScaler(), IncrementalQuantileRegressor(**incremental)
                )
            },
            {"estimator": convex},
        ]
