"""The compared models behind one small interface.

Every univariate model is a :class:`BenchModel`: ``fit(X, y)``, then
``quantiles(X, levels)`` returning an array of shape (n, n_levels).
``full_quantile_function`` tells whether any levels may be asked (a whole
quantile function) or only the 19 levels of :data:`_scoring.LEVELS` the
model was fitted at. ``fitted`` is the object whose pickled size is
reported.

The settings of each model are spelled out in its ``settings`` string,
which is also hashed into the cache key of its results (changing a setting
invalidates the cached results of that model only).
"""

import numpy as np

from .scoring import LEVELS


def _convex_class():
    """``ConvexQuantileRegressor`` from the public namespace, else the module."""
    try:
        from skquantile import ConvexQuantileRegressor
    except ImportError:
        from skquantile._convex import ConvexQuantileRegressor
    return ConvexQuantileRegressor


class BenchModel:
    """Base class: a name, a settings string and the prediction interface."""

    name = ""
    settings = ""
    full_quantile_function = True

    def __init__(self, threads, seed):
        self.threads = threads
        self.seed = seed

    def fit(self, X, y):
        raise NotImplementedError

    def quantiles(self, X, levels):
        raise NotImplementedError

    @classmethod
    def signature(cls):
        """Text identifying the model's configuration, hashed into cache keys."""
        return cls.settings

    @classmethod
    def warm_up_model(cls):
        """The model whose fit on a tiny problem absorbs the one-off start-up
        costs (lazy imports, thread pools) before a timed fit."""
        return cls

    @property
    def fitted(self):
        return self.model_

    def _check_fixed_levels(self, levels):
        if not np.allclose(levels, LEVELS):
            raise ValueError(f"{self.name} was fitted at the 19 levels only.")


#: Parameters added to the estimators after records were measured, with the
#: default at which the suites' fits are those of before the parameter
#: existed; at that default they are left out of the settings hash, so the
#: records stay valid. ``n_jobs=None`` is one thread, as the one-thread
#: protocol ran before; ``categorical_features="from_dtype"`` finds no
#: categorical column in the arrays the suites pass (checked bit for bit).
_UNCHANGED_BY_DEFAULT = {"n_jobs": None, "categorical_features": "from_dtype"}


class SkquantileModel(BenchModel):
    """A skquantile estimator at its default parameters after a StandardScaler."""

    #: Names the last change of the training code that changes fits without
    #: changing a parameter (float rounding included); part of the cache key,
    #: so that results of the older code are not reused.
    training_code = ""
    #: Parameters set on top of the estimator's defaults (see
    #: :meth:`with_params`); part of the settings hash through ``get_params``.
    params = {}

    @classmethod
    def with_params(cls, params):
        """This model, under the same name, with ``params`` set on the estimator."""
        if not params:
            return cls
        params = {**cls.params, **params}
        changed = ", ".join(f"{name}={value!r}" for name, value in params.items())
        settings = f"{cls.settings}; set on top of the defaults: {changed}"
        return type(cls.__name__, (cls,), {"params": params, "settings": settings})

    @classmethod
    def warm_up_model(cls):
        # Two epochs load and initialise everything a fit uses; a whole fit
        # at the defaults (thousands of steps) would only add seconds.
        return cls.with_params({"max_epochs": 2})

    def _default_estimator(self):
        raise NotImplementedError

    def _estimator(self):
        estimator = self._default_estimator().set_params(**self.params)
        if self.threads != 1:
            # The estimators train on one thread unless told otherwise; the
            # protocol's thread count goes to n_jobs (left at its default for
            # one thread, so the settings hash of one-thread runs stays).
            estimator.set_params(n_jobs=self.threads)
        return estimator

    @classmethod
    def signature(cls, **changed):
        """The settings plus the estimator's parameters, the package version
        and the revision of the training code.

        The skquantile defaults are still being tuned, so cached results of
        an older default are not reused. ``changed`` parameters give the
        signature the model would have with those defaults.
        """
        import skquantile

        params = {**cls(1, 0)._estimator().get_params(), **changed}
        for name, default in _UNCHANGED_BY_DEFAULT.items():
            if name in params and params[name] == default:
                del params[name]
        params = sorted(params.items())
        text = f"{cls.settings} {params!r} skquantile {skquantile.__version__}"
        if cls.training_code:
            text += f" training code: {cls.training_code}"
        return text

    def fit(self, X, y):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.model_ = make_pipeline(StandardScaler(), self._estimator()).fit(X, y)
        return self

    def _split(self, X):
        scaler, estimator = self.model_[0], self.model_[-1]
        return estimator, scaler.transform(X)

    def quantiles(self, X, levels):
        estimator, X = self._split(X)
        return estimator.predict_quantile(X, levels)

    def sample(self, X, n_samples, random_state=0):
        estimator, X = self._split(X)
        return estimator.sample(X, n_samples, random_state=random_state)


class Incremental(SkquantileModel):
    name = "IncrementalQuantileRegressor"
    settings = "defaults, StandardScaler on X, random_state=seed"
    training_code = (
        "auto patience at least 40 epochs; analytic CRPS gradient, fused AdamW"
    )

    def _default_estimator(self):
        from skquantile import IncrementalQuantileRegressor

        return IncrementalQuantileRegressor(random_state=self.seed)

    def joint_region_contains(self, X, Y, coverage=0.9):
        """Box of marginal intervals whose product of coverages is ``coverage``."""
        from .scoring import box_contains, joint_box_levels

        estimator, X = self._split(X)
        levels = joint_box_levels(estimator.n_outputs_, coverage)
        return box_contains(Y, estimator.predict_quantile(X, levels))


class Convex(SkquantileModel):
    name = "ConvexQuantileRegressor"
    settings = "defaults, StandardScaler on X, random_state=seed"
    training_code = (
        "map by the written-out gradient, energy score by cdist, "
        "joint patience 2x best epoch within 800 to 2400 steps, "
        "antithetic energy draws"
    )

    def _default_estimator(self):
        return _convex_class()(random_state=self.seed)

    def joint_region_contains(self, X, Y, coverage=0.9):
        estimator, X = self._split(X)
        return estimator.region_contains(X, Y, coverage=coverage)


class ConvexTuned(Convex):
    """What the tuned variants of the convex estimator share."""

    #: Exploratory: run by the full protocol only, to keep --quick short.
    full_protocol_only = True
    #: What the report says about how these records were measured.
    measured_with = (
        "measured with the training code and the growing multi-target "
        "patience of the defaults (eighth run)"
    )


class ConvexWide(ConvexTuned):
    """The convex estimator with a larger context network: a tuned variant.

    Labelled as tuned in every table. Three layers of 128 on the context
    network is what made the incremental estimator more accurate on the UCI
    sets; this variant measures whether the joint model gains the same way.
    """

    name = "ConvexQuantileRegressor (tuned: context 3x128)"
    #: Measured with the training code before the written-out gradient (the
    #: same map; see results/HISTORY.md, "Convex training code") and with
    #: the earlier multi-target patience of 800 steps, and not re-measured:
    #: keep its cache keys.
    training_code = ""
    measured_with = "measured with the earlier multi-target patience of 800 steps"
    settings = (
        "hidden_layer_sizes=(128, 128, 128), other parameters at the defaults, "
        "StandardScaler on X, random_state=seed"
    )

    def _default_estimator(self):
        # One network, as measured (the several-target default became an
        # ensemble in the ninth run).
        return _convex_class()(
            n_members=1, hidden_layer_sizes=(128, 128, 128), random_state=self.seed
        )


class ConvexEnsembleWide(ConvexTuned):
    """An ensemble of five convex networks with the larger context: a tuned
    variant until the ninth run, retired since (see :data:`RETIRED`).

    Five networks averaged through their potentials (``n_members=5``) is what
    made the incremental estimator, the independent baseline, markedly
    stronger on small data; this variant measured how much the joint model
    gains from the same averaging. Since the ninth run it is what the
    defaults fit for several targets on up to 4000 rows (every multi-target
    set of the suite), so its records were carried over to the defaults
    (``carried_from``) and it is no longer run or reported.
    """

    name = "ConvexQuantileRegressor (tuned: 5 networks with context 3x128)"
    settings = (
        "n_members=5, hidden_layer_sizes=(128, 128, 128), other parameters at "
        "the defaults, StandardScaler on X, random_state=seed"
    )

    def _default_estimator(self):
        return _convex_class()(
            n_members=5, hidden_layer_sizes=(128, 128, 128), random_state=self.seed
        )


class QuantileForest(BenchModel):
    name = "quantile forest"
    settings = (
        "quantile-forest RandomForestQuantileRegressor(n_estimators=200), other "
        "parameters at the library defaults (min_samples_leaf=1, "
        "max_samples_leaf=1, max_features=1.0)"
    )

    def fit(self, X, y):
        from quantile_forest import RandomForestQuantileRegressor

        self.model_ = RandomForestQuantileRegressor(
            n_estimators=200, n_jobs=self.threads, random_state=self.seed
        ).fit(X, y)
        return self

    def quantiles(self, X, levels):
        return self.model_.predict(X, quantiles=list(np.asarray(levels)))


class PerLevel(BenchModel):
    """One gradient-boosting model per level of the 19 levels."""

    full_quantile_function = False

    def _model(self, level):
        raise NotImplementedError

    def fit(self, X, y):
        self.model_ = [self._model(level).fit(X, y) for level in LEVELS]
        return self

    def quantiles(self, X, levels):
        self._check_fixed_levels(levels)
        return np.column_stack([model.predict(X) for model in self.model_])


class LightGBM(PerLevel):
    name = "LightGBM x19"
    settings = (
        "one LGBMRegressor(objective='quantile', alpha=level, n_estimators=200) "
        "per level, other parameters at the defaults (learning_rate=0.1, "
        "num_leaves=31)"
    )

    def _model(self, level):
        import lightgbm

        return lightgbm.LGBMRegressor(
            objective="quantile",
            alpha=float(level),
            n_estimators=200,
            n_jobs=self.threads,
            random_state=self.seed,
            verbose=-1,
        )


class HistGradientBoosting(PerLevel):
    name = "HistGradientBoosting x19"
    settings = (
        "one sklearn HistGradientBoostingRegressor(loss='quantile', "
        "quantile=level, max_iter=200) per level, other parameters at the "
        "defaults (learning_rate=0.1, early stopping on above 10000 rows)"
    )

    def _model(self, level):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            loss="quantile", quantile=float(level), max_iter=200, random_state=self.seed
        )


class XGBoost(BenchModel):
    name = "XGBoost 19-level"
    full_quantile_function = False
    settings = (
        "one XGBRegressor(objective='reg:quantileerror', quantile_alpha=19 "
        "levels, tree_method='hist', n_estimators=200, learning_rate=0.1), "
        "max_depth at the default 6"
    )

    def fit(self, X, y):
        import xgboost

        self.model_ = xgboost.XGBRegressor(
            objective="reg:quantileerror",
            quantile_alpha=LEVELS,
            tree_method="hist",
            n_estimators=200,
            learning_rate=0.1,
            n_jobs=self.threads,
            random_state=self.seed,
        ).fit(X, y)
        return self

    def quantiles(self, X, levels):
        self._check_fixed_levels(levels)
        return self.model_.predict(X)


class CatBoostMultiQuantile(BenchModel):
    """CatBoost's one model for many levels: a ``MultiQuantile`` loss over the
    19 levels, so one ensemble of trees with a leaf value per level (the
    levels are not constrained to be ordered)."""

    name = "CatBoost MultiQuantile"
    full_quantile_function = False
    settings = (
        "one CatBoostRegressor(loss_function='MultiQuantile:alpha=<19 levels>') "
        "at the library defaults (iterations=1000, depth=6, learning rate "
        "chosen by the library)"
    )

    def fit(self, X, y):
        import catboost

        alphas = ",".join(f"{level:g}" for level in LEVELS)
        self.model_ = catboost.CatBoostRegressor(
            loss_function=f"MultiQuantile:alpha={alphas}",
            thread_count=self.threads,
            random_seed=self.seed,
            verbose=False,
            allow_writing_files=False,
        ).fit(X, y)
        return self

    def quantiles(self, X, levels):
        self._check_fixed_levels(levels)
        return np.asarray(self.model_.predict(X)).reshape(len(X), len(LEVELS))


class NGBoost(BenchModel):
    name = "NGBoost Normal"
    settings = (
        "NGBRegressor(Dist=Normal) at the defaults (500 stages, "
        "learning_rate=0.01, depth-3 trees, natural gradient of the log score)"
    )

    def fit(self, X, y):
        from ngboost import NGBRegressor
        from ngboost.distns import Normal

        self.model_ = NGBRegressor(
            Dist=Normal, verbose=False, random_state=self.seed
        ).fit(X, y)
        return self

    def quantiles(self, X, levels):
        from scipy.stats import norm

        params = self.model_.pred_dist(X).params
        return norm.ppf(
            np.asarray(levels)[None, :],
            loc=params["loc"][:, None],
            scale=params["scale"][:, None],
        )


def _available(module):
    from importlib.util import find_spec

    return find_spec(module) is not None


#: Univariate models in table order, with the module each one needs.
UNIVARIATE = [
    (Incremental, "skquantile"),
    (Convex, "skquantile"),
    (QuantileForest, "quantile_forest"),
    (LightGBM, "lightgbm"),
    (HistGradientBoosting, "sklearn"),
    (XGBoost, "xgboost"),
    (CatBoostMultiQuantile, "catboost"),
    (NGBoost, "ngboost"),
]
#: Multi-target models: the joint model (at the defaults and tuned variants)
#: and the independent-marginals baseline.
MULTIOUTPUT = [
    (Convex, "skquantile"),
    (ConvexWide, "skquantile"),
    (Incremental, "skquantile"),
]
#: Names of tuned variants that became a default: their records were carried
#: over to that default's name; their own stay in ``results/raw/`` and are not
#: reported.
RETIRED = {ConvexEnsembleWide.name}
SKQUANTILE_NAMES = (Incremental.name, Convex.name)


def available_models(registry=UNIVARIATE, only=None):
    """The model classes whose library is installed, and the names of the others.

    ``only`` optionally restricts the result to the given model names.
    """
    classes, missing = [], []
    for cls, module in registry:
        if only is not None and cls.name not in only:
            continue
        (classes if _available(module) else missing).append(
            cls if _available(module) else cls.name
        )
    return classes, missing


def for_protocol(classes, protocol):
    """The model classes as ``protocol`` runs them in the UCI, generator and
    multi-target suites: the skquantile estimators with the protocol's
    ``skquantile_params`` (the quick protocol's training budget), the peers
    as they are."""
    params = dict(protocol.skquantile_params)
    return [
        cls.with_params(params) if issubclass(cls, SkquantileModel) else cls
        for cls in classes
    ]


def model_by_name(name):
    """The model class of the given name."""
    for cls, _ in UNIVARIATE:
        if cls.name == name:
            return cls
    raise KeyError(name)
