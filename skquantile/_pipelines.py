"""Reaching the skquantile estimator inside a pipeline (or a frozen wrapper).

A :class:`~sklearn.pipeline.Pipeline` forwards only the prediction methods
that scikit-learn knows (``predict(X, **params)`` among them); the scorers,
the plots and :class:`~skquantile.CalibratedQuantileRegressor` reach the
other methods (``predict_quantile``, ``predict_cdf``, ``sample``, ...) of the
final step through these helpers, with ``X`` pushed through the steps before
it by their public ``transform``.
"""

from sklearn.pipeline import Pipeline

try:  # scikit-learn >= 1.6
    from sklearn.frozen import FrozenEstimator
except ImportError:  # pragma: no cover
    FrozenEstimator = None


def _frozen(estimator):
    return FrozenEstimator is not None and isinstance(estimator, FrozenEstimator)


def final_step(estimator):
    """The estimator at the end of ``estimator``: itself, the last step of a
    pipeline, or the estimator inside a ``FrozenEstimator`` (recursively)."""
    if isinstance(estimator, Pipeline):
        return final_step(estimator.steps[-1][1])
    if _frozen(estimator):
        return final_step(estimator.estimator)
    return estimator


def fitted_network(estimator):
    """The fitted skquantile estimator inside ``estimator``: :func:`final_step`,
    or the fitted ``estimator_`` of a wrapper such as
    :class:`~skquantile.CalibratedQuantileRegressor` (recursively)."""
    final = final_step(estimator)
    inner = getattr(final, "estimator_", None)
    if inner is None or inner is final:
        return final
    return fitted_network(inner)


def transform_for_final_step(estimator, X):
    """``X`` as :func:`final_step` of ``estimator`` sees it."""
    if isinstance(estimator, Pipeline):
        return transform_for_final_step(
            estimator.steps[-1][1], estimator[:-1].transform(X)
        )
    if _frozen(estimator):
        return transform_for_final_step(estimator.estimator, X)
    return X


def locate_method(estimator, X, method, owners=()):
    """``(bound method, X)``: ``estimator``'s own ``method``, or else that of
    the final step of a pipeline with ``X`` pushed through the steps before
    it. A ``TypeError`` names the estimator (and the pipelines around it)
    when no step has the method."""
    bound = getattr(estimator, method, None)
    if callable(bound):
        return bound, X
    if isinstance(estimator, Pipeline):
        return locate_method(
            estimator.steps[-1][1],
            estimator[:-1].transform(X),
            method,
            owners + (type(estimator).__name__,),
        )
    where = "".join(f" (the final step of a {owner})" for owner in reversed(owners))
    raise TypeError(
        f"{type(estimator).__name__}{where} has no method {method!r}; this needs "
        "an estimator that implements it, or a Pipeline whose final step does."
    )
