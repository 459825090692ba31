"""scikit-learn's estimator checks, on default parameters."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor


@parametrize_with_checks([IncrementalQuantileRegressor(), ConvexQuantileRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
