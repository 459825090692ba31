"""Synthetic regression data with a known conditional quantile function.

Every generator returns ``X, y, truth``: the features, the targets and an
object describing the true conditional distribution of ``y`` given ``X``.
``truth`` answers the same questions as a fitted skquantile estimator, for
any features (not only the generated ones):

- ``truth.predict(X)``: the conditional median;
- ``truth.predict_quantile(X, alpha)``: quantiles, shaped like the
  estimators' (``(n,)`` for a scalar level, ``(n, n_levels)`` for an array);
- ``truth.predict_cdf(X, y)``: the conditional distribution function;
- ``truth.sample(X, n_samples, random_state)``: draws, ``(n, n_samples)``.

The multivariate generators (:func:`make_correlated_horizons`,
:func:`make_two_targets`) return ``X, Y, truth`` with ``Y`` of shape
``(n, n_outputs)``; their ``truth`` is a conditional multivariate normal law:

- ``truth.predict(X)``: the conditional mean (also the median of every
  output), ``(n, n_outputs)``;
- ``truth.predict_marginal_quantile(X, alpha)``: quantiles of each output,
  ``(n, n_outputs)`` for a scalar level, ``(n, n_outputs, n_levels)`` for an
  array;
- ``truth.sample(X, n_samples, random_state)``: joint draws,
  ``(n, n_samples, n_outputs)``, shaped like the multivariate estimators';
- ``truth.covariance(X)``: ``(n, n_outputs, n_outputs)``;
- ``truth.region_contains(X, Y, coverage)``: whether each row of ``Y`` lies in
  the true central region (ellipsoid) of that probability, ``(n,)``.

This makes them suitable for tests, examples and benchmarks that measure
the gap between a model and the oracle.
"""

from numbers import Integral, Real

import numpy as np
from scipy import special, stats
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._docstrings import shared_parameters
from ._validation import (
    check_coverage,
    check_levels,
    check_n_samples,
    check_numeric_array,
)

#: Descriptions of the parameters and results that several generators share
#: (:func:`~skquantile._docstrings.shared_parameters`).
_PARAMETERS = {
    "n_samples": """n_samples : int, default=1000
    Number of rows.""",
    "n_features": """n_features : int, default=4
    Number of features, at least 2; those after the first two are noise.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
    Seeds the features and the noise.""",
    "X": """X : ndarray of shape (n_samples, n_features)
    Features.""",
    "y": """y : ndarray of shape (n_samples,)
    Targets.""",
    "truth": """truth : object
    The true conditional distribution; see the module documentation.""",
}
_PARAMETERS["n_features_two"] = _PARAMETERS["n_features"].replace(
    "default=4", "default=2"
)
_PARAMETERS["returns_one_target"] = "\n".join(
    ["Returns", "-------"] + [_PARAMETERS[name] for name in ("X", "y", "truth")]
)


def _one_target_sections(n_features):
    """The Parameters and Returns sections of a generator of one target whose
    parameters are ``n_samples``, ``n_features`` (described by the entry
    named ``n_features``) and ``random_state``."""
    names = ("n_samples", n_features, "random_state")
    parameters = [_PARAMETERS[name] for name in names]
    return "\n".join(
        ["Parameters", "----------", *parameters, "", _PARAMETERS["returns_one_target"]]
    )


_PARAMETERS["one_target_sections"] = _one_target_sections("n_features")
_PARAMETERS["one_target_sections_two"] = _one_target_sections("n_features_two")
#: The parameters of a generator of one target (and of every generator).
_GENERATOR_CONSTRAINTS = {
    "n_samples": [Interval(Integral, 1, None, closed="left")],
    "n_features": [Interval(Integral, 2, None, closed="left")],
    "random_state": ["random_state"],
}
_shared = shared_parameters(_PARAMETERS)

__all__ = [
    "make_correlated_horizons",
    "make_heavy_tailed",
    "make_heteroscedastic",
    "make_three_peaks",
    "make_two_targets",
]


def _check_features(X, n_features):
    """Validate features against the number a distribution is defined on."""
    X = check_numeric_array(X, "X")
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but this distribution is defined "
            f"on {n_features} features."
        )
    return X


class _ConditionalDistribution:
    """Known conditional law of a univariate target given features."""

    def __init__(self, n_features):
        self.n_features = n_features

    def predict(self, X):
        """Conditional median, shape (n_samples,)."""
        return self.predict_quantile(X, 0.5)

    def predict_quantile(self, X, alpha):
        """Conditional quantiles at levels ``alpha`` (scalar or 1-d array)."""
        X = self._check_X(X)
        levels, scalar = check_levels(alpha)
        quantiles = self._quantile(X, np.broadcast_to(levels, (len(X), len(levels))))
        return quantiles[:, 0] if scalar else quantiles

    def predict_cdf(self, X, y):
        """Conditional distribution function at one target value per row."""
        X = self._check_X(X)
        y = check_numeric_array(y, "y", ensure_2d=False)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},), got {y.shape}.")
        return self._cdf(X, y[:, None])[:, 0]

    def sample(self, X, n_samples=1, random_state=None):
        """Draws from the conditional law, shape (n_samples_X, n_samples)."""
        X = self._check_X(X)
        n_samples = check_n_samples(n_samples)
        rng = check_random_state(random_state)
        return self._sample(X, n_samples, rng)

    def _sample(self, X, n_samples, rng):
        uniform = rng.uniform(size=(len(X), n_samples))
        return self._quantile(X, np.clip(uniform, 1e-300, 1.0 - 2.0**-53))

    def _check_X(self, X):
        return _check_features(X, self.n_features)


class _LocationScale(_ConditionalDistribution):
    """``y = location(x) + scale(x) * e`` with ``e`` from a fixed law."""

    def __init__(self, n_features, location, scale, noise):
        super().__init__(n_features)
        self.location, self.scale, self.noise = location, scale, noise

    def _quantile(self, X, levels):
        loc, scale = self.location(X)[:, None], self.scale(X)[:, None]
        return loc + scale * self.noise.ppf(levels)

    def _cdf(self, X, y):
        loc, scale = self.location(X)[:, None], self.scale(X)[:, None]
        return self.noise.cdf((y - loc) / scale)

    def _sample(self, X, n_samples, rng):
        noise = self.noise.rvs(size=(len(X), n_samples), random_state=rng)
        return self.location(X)[:, None] + self.scale(X)[:, None] * noise


class _GaussianMixture(_ConditionalDistribution):
    """Mixture of Gaussians with fixed weights and feature-dependent means."""

    def __init__(self, n_features, means, weights, std):
        super().__init__(n_features)
        self.means, self.weights, self.std = means, np.asarray(weights), std

    def _cdf(self, X, y):
        means = self.means(X)[:, None, :]
        cdf = special.ndtr((y[..., None] - means) / self.std)
        return cdf @ self.weights

    def _quantile(self, X, levels):
        # Bisection on the mixture CDF: it is increasing, and the quantile lies
        # between the smallest and largest component quantiles at that level.
        means = self.means(X)
        spread = self.std * special.ndtri(levels)
        low = means.min(axis=1)[:, None] + spread
        high = means.max(axis=1)[:, None] + spread
        for _ in range(60):
            middle = 0.5 * (low + high)
            below = self._cdf(X, middle) < levels
            low = np.where(below, middle, low)
            high = np.where(below, high, middle)
        return 0.5 * (low + high)

    def _sample(self, X, n_samples, rng):
        component = rng.choice(
            len(self.weights), p=self.weights, size=(len(X), n_samples)
        )
        means = np.take_along_axis(self.means(X), component, axis=1)
        return means + self.std * rng.standard_normal((len(X), n_samples))


def _uniform_features(n_samples, n_features, rng, minimum_features):
    if n_features < minimum_features:
        raise ValueError(
            f"n_features must be at least {minimum_features}, got {n_features}."
        )
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}.")
    return rng.uniform(-1.0, 1.0, size=(n_samples, n_features))


# Module-level functions rather than lambdas keep the truth objects picklable.
def _heteroscedastic_location(X):
    return np.sin(np.pi * X[:, 0]) + 0.5 * X[:, 1]


def _heteroscedastic_scale(X):
    return 0.1 + 0.2 * np.abs(X[:, 0] + 1.0) + 0.2 * np.abs(X[:, 1])


def _three_peak_means(X):
    separation = 1.5 + 0.5 * X[:, 1]
    return X[:, :1] + separation[:, None] * np.array([-1.0, 0.0, 1.0])


def _heavy_tailed_location(X):
    return X[:, 0] + np.cos(np.pi * X[:, 1])


def _heavy_tailed_scale(X):
    return 0.2 + 0.3 * np.abs(X[:, 0])


def _draw(truth, n_samples, random_state):
    """``X, y, truth``: ``n_samples`` rows of features uniform on ``[-1, 1]``
    and one draw of the target from ``truth`` (a conditional law of one
    target or of a target vector) for each."""
    rng = check_random_state(random_state)
    X = _uniform_features(n_samples, truth.n_features, rng, minimum_features=2)
    return X, truth.sample(X, 1, random_state=rng)[:, 0], truth


@_shared
@validate_params(_GENERATOR_CONSTRAINTS, prefer_skip_nested_validation=True)
def make_heteroscedastic(n_samples=1000, *, n_features=4, random_state=None):
    """Gaussian target whose mean and spread both depend on the features.

    The features are uniform on ``[-1, 1]``; only the first two matter::

        y = sin(pi x0) + 0.5 x1 + (0.1 + 0.2 |x0 + 1| + 0.2 |x1|) e,

    with ``e`` standard normal, so the true quantile is the mean plus the
    spread times the normal quantile.

    {one_target_sections}

    Examples
    --------
    >>> from skquantile.datasets import make_heteroscedastic
    >>> X, y, truth = make_heteroscedastic(n_samples=5, random_state=0)
    >>> X.shape, y.shape, truth.predict_quantile(X, [0.1, 0.9]).shape
    ((5, 4), (5,), (5, 2))
    """
    truth = _LocationScale(
        n_features,
        location=_heteroscedastic_location,
        scale=_heteroscedastic_scale,
        noise=stats.norm(),
    )
    return _draw(truth, n_samples, random_state)


@_shared
@validate_params(_GENERATOR_CONSTRAINTS, prefer_skip_nested_validation=True)
def make_three_peaks(n_samples=1000, *, n_features=2, random_state=None):
    """Multi-modal target: three Gaussian peaks that move with the features.

    The conditional law is the mixture, with weights 0.3, 0.4 and 0.3, of
    normals with standard deviation 0.3 centred at ``m(x) - s(x)``, ``m(x)``
    and ``m(x) + s(x)``, where ``m(x) = x0`` and ``s(x) = 1.5 + 0.5 x1``: the
    three-peak example of the seed article, made conditional. Its quantile
    function has flat steps between the peaks that a few knots cannot follow.

    {one_target_sections_two}

    Examples
    --------
    >>> from skquantile.datasets import make_three_peaks
    >>> X, y, truth = make_three_peaks(n_samples=5, random_state=0)
    >>> bool((truth.predict_cdf(X, truth.predict(X)).round(6) == 0.5).all())
    True
    """
    truth = _GaussianMixture(
        n_features, _three_peak_means, weights=[0.3, 0.4, 0.3], std=0.3
    )
    return _draw(truth, n_samples, random_state)


@_shared
@validate_params(
    {**_GENERATOR_CONSTRAINTS, "df": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def make_heavy_tailed(n_samples=1000, *, n_features=4, df=3.0, random_state=None):
    """Student-t target with feature-dependent location and scale.

    The features are uniform on ``[-1, 1]``; only the first two matter::

        y = x0 + cos(pi x1) + (0.2 + 0.3 |x0|) t,

    with ``t`` Student-t distributed with ``df`` degrees of freedom (infinite
    variance for ``df <= 2``).

    Parameters
    ----------
    {n_samples}
    {n_features}
    df : float, default=3.0
        Degrees of freedom of the noise, positive and finite.
    {random_state}

    {returns_one_target}

    Examples
    --------
    >>> from skquantile.datasets import make_heavy_tailed
    >>> X, y, truth = make_heavy_tailed(n_samples=5, df=1.5, random_state=0)
    >>> truth.sample(X, n_samples=3, random_state=0).shape
    (5, 3)
    """
    if not (np.isfinite(df) and df > 0):
        raise ValueError(f"df must be a positive finite number, got {df!r}.")
    truth = _LocationScale(
        n_features,
        location=_heavy_tailed_location,
        scale=_heavy_tailed_scale,
        noise=stats.t(df),
    )
    return _draw(truth, n_samples, random_state)


# %% Multivariate targets


class _ConditionalGaussian:
    """Known multivariate normal law of a target vector given features.

    Subclasses define ``_mean(X)`` and ``_scale(X)``, both of shape
    (n_samples, n_outputs), and ``_correlation(X)`` of shape
    (n_samples, n_outputs, n_outputs).
    """

    def __init__(self, n_features, n_outputs):
        self.n_features = n_features
        self.n_outputs = n_outputs

    def predict(self, X):
        """Conditional mean, also the median, shape (n_samples, n_outputs)."""
        return self._mean(self._check_X(X))

    def predict_marginal_quantile(self, X, alpha):
        """Quantiles of each output on its own.

        Shape (n_samples, n_outputs) for a scalar level, and
        (n_samples, n_outputs, n_levels) for an array of levels.
        """
        X = self._check_X(X)
        levels, scalar = check_levels(alpha)
        quantiles = self._mean(X)[:, :, None] + self._scale(X)[
            :, :, None
        ] * special.ndtri(levels)
        return quantiles[:, :, 0] if scalar else quantiles

    def covariance(self, X):
        """Conditional covariance matrices, shape (n_samples, n_outputs, n_outputs)."""
        X = self._check_X(X)
        scale = self._scale(X)
        return (scale[:, :, None] * scale[:, None, :]) * self._correlation(X)

    def sample(self, X, n_samples=1, random_state=None):
        """Draws of the target vector, shape (n_samples_X, n_samples, n_outputs)."""
        X = self._check_X(X)
        n_samples = check_n_samples(n_samples)
        rng = check_random_state(random_state)
        noise = rng.standard_normal((len(X), n_samples, self.n_outputs))
        factor = np.linalg.cholesky(self._correlation(X))
        correlated = noise @ np.swapaxes(factor, 1, 2)
        return self._mean(X)[:, None, :] + self._scale(X)[:, None, :] * correlated

    def region_contains(self, X, Y, coverage):
        """Whether each target vector lies in the true central region.

        The region of a row is the ellipsoid of probability ``coverage``
        around the mean: the vectors whose squared Mahalanobis distance to
        the mean is at most the ``coverage``-quantile of the chi-squared law
        with ``n_outputs`` degrees of freedom. Returns a boolean array of
        shape (n_samples,).
        """
        X = self._check_X(X)
        coverage = check_coverage(coverage)
        Y = check_numeric_array(Y, "Y")
        if Y.shape != (len(X), self.n_outputs):
            raise ValueError(
                f"Y must have shape ({len(X)}, {self.n_outputs}), one target "
                f"vector per row of X, got shape {Y.shape}."
            )
        standard = (Y - self._mean(X)) / self._scale(X)
        whitened = np.linalg.solve(self._correlation(X), standard[:, :, None])
        squared_distance = np.einsum("nd,nd->n", standard, whitened[:, :, 0])
        return squared_distance <= stats.chi2.ppf(coverage, self.n_outputs)

    def _check_X(self, X):
        return _check_features(X, self.n_features)


class _CorrelatedHorizons(_ConditionalGaussian):
    """Gaussian path over horizons with AR(1) correlation between them."""

    def __init__(self, n_features, n_horizons, correlation):
        super().__init__(n_features, n_horizons)
        lags = np.abs(np.subtract.outer(np.arange(n_horizons), np.arange(n_horizons)))
        self.correlation_ = float(correlation) ** lags

    def _horizons(self):
        return np.arange(1, self.n_outputs + 1) / self.n_outputs

    def _mean(self, X):
        level = np.sin(np.pi * X[:, 0]) + 0.5 * X[:, 1]
        return level[:, None] + 0.3 * X[:, :1] * self._horizons()

    def _scale(self, X):
        spread = 0.2 + 0.3 * np.abs(X[:, 0])
        growth = 1.0 + 0.5 * (self._horizons() - 1.0 / self.n_outputs)
        return spread[:, None] * growth

    def _correlation(self, X):
        return np.broadcast_to(self.correlation_, (len(X),) + self.correlation_.shape)


class _TwoTargets(_ConditionalGaussian):
    """Bivariate normal whose correlation changes sign with the features."""

    def __init__(self, n_features):
        super().__init__(n_features, 2)

    def _mean(self, X):
        x0, x1 = X[:, 0], X[:, 1]
        return np.column_stack([np.sin(np.pi * x0) + 0.5 * x1, np.cos(np.pi * x1) - x0])

    def _scale(self, X):
        return 0.2 + 0.3 * np.abs(X[:, :2])

    def _correlation(self, X):
        rho = 0.8 * np.tanh(2.0 * X[:, 1])
        correlation = np.empty((len(X), 2, 2))
        correlation[:, 0, 0] = correlation[:, 1, 1] = 1.0
        correlation[:, 0, 1] = correlation[:, 1, 0] = rho
        return correlation


@_shared
@validate_params(
    {
        **_GENERATOR_CONSTRAINTS,
        "n_horizons": [Interval(Integral, 1, None, closed="left")],
        "correlation": [Interval(Real, -1, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def make_correlated_horizons(
    n_samples=1000, *, n_horizons=6, correlation=0.9, n_features=4, random_state=None
):
    """Gaussian target vector over forecast horizons, correlated like an AR(1).

    The features are uniform on ``[-1, 1]``; only the first two matter. The
    target ``Y = (Y_1, ..., Y_H)`` with ``H = n_horizons`` is multivariate
    normal given ``x``, with, for ``h = 1, ..., H``::

        mean_h(x) = sin(pi x0) + 0.5 x1 + 0.3 x0 h / H,
        std_h(x)  = (0.2 + 0.3 |x0|) (1 + 0.5 (h - 1) / H),
        corr(Y_h, Y_g) = correlation ** |h - g|.

    The mean drifts with the horizon, the spread grows slowly with it (at
    most by half) and neighbouring horizons are strongly dependent, as in a
    multi-step forecast. Each output alone looks like
    :func:`make_heteroscedastic`, so a model with the right marginals but
    independent outputs scores well per output yet badly by
    :func:`~skquantile.metrics.energy_score` and
    :func:`~skquantile.metrics.variogram_score`.

    Parameters
    ----------
    {n_samples}
    n_horizons : int, default=6
        Number of outputs ``H``, at least 1.
    correlation : float, default=0.9
        Correlation of consecutive horizons, strictly inside (-1, 1).
    {n_features}
    {random_state}

    Returns
    -------
    {X}
    Y : ndarray of shape (n_samples, n_horizons)
        Target vectors.
    truth : object
        The true conditional distribution, for any features:
        ``predict(X)`` the mean (also the median), shape
        (n_samples, n_horizons); ``predict_marginal_quantile(X, alpha)`` the
        quantiles of each output, shape (n_samples, n_horizons) for a scalar
        level and (n_samples, n_horizons, n_levels) for an array;
        ``sample(X, n_samples, random_state)`` draws of shape
        (n_samples_X, n_samples, n_horizons); ``covariance(X)``, shape
        (n_samples, n_horizons, n_horizons); ``region_contains(X, Y,
        coverage)`` whether each row of ``Y`` lies in the true central
        ellipsoid of that probability; and the attribute ``correlation_``,
        the (n_horizons, n_horizons) correlation matrix.

    See Also
    --------
    make_two_targets : Two outputs whose correlation depends on the features.

    Examples
    --------
    >>> from skquantile.datasets import make_correlated_horizons
    >>> X, Y, truth = make_correlated_horizons(n_samples=5, random_state=0)
    >>> X.shape, Y.shape, truth.sample(X, 10, random_state=0).shape
    ((5, 4), (5, 6), (5, 10, 6))
    >>> truth.correlation_[0, :3].round(2)
    array([1.  , 0.9 , 0.81])
    """
    truth = _CorrelatedHorizons(n_features, n_horizons, correlation)
    return _draw(truth, n_samples, random_state)


@_shared
@validate_params(_GENERATOR_CONSTRAINTS, prefer_skip_nested_validation=True)
def make_two_targets(n_samples=1000, *, n_features=2, random_state=None):
    """Two Gaussian outputs whose correlation changes sign with the features.

    The features are uniform on ``[-1, 1]``; only the first two matter. The
    target ``(Y_1, Y_2)`` is bivariate normal given ``x``, with::

        mean(x) = (sin(pi x0) + 0.5 x1, cos(pi x1) - x0),
        std(x)  = (0.2 + 0.3 |x0|, 0.2 + 0.3 |x1|),
        corr(Y_1, Y_2) = 0.8 tanh(2 x1).

    The true central region of any coverage is therefore an ellipse whose
    size, shape and tilt all depend on ``x``: a test bed for prediction
    regions, which a model with the right marginals but a fixed dependence
    cannot fit.

    Parameters
    ----------
    {n_samples}
    {n_features_two}
    {random_state}

    Returns
    -------
    {X}
    Y : ndarray of shape (n_samples, 2)
        Target vectors.
    truth : object
        The true conditional distribution, with the methods described in
        :func:`make_correlated_horizons` (``predict``,
        ``predict_marginal_quantile``, ``sample``, ``covariance`` and
        ``region_contains``) for two outputs; it has no ``correlation_``, as
        the correlation varies with ``x``.

    See Also
    --------
    make_correlated_horizons : Many outputs with a fixed AR(1) correlation.

    Examples
    --------
    >>> import numpy as np
    >>> from skquantile.datasets import make_two_targets
    >>> X, Y, truth = make_two_targets(n_samples=4, random_state=0)
    >>> Y.shape, truth.covariance(X).shape
    ((4, 2), (4, 2, 2))
    >>> truth.region_contains(X, truth.predict(X), coverage=0.5)
    array([ True,  True,  True,  True])
    """
    return _draw(_TwoTargets(n_features), n_samples, random_state)
