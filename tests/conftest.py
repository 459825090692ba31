"""Test configuration."""

import os

# scikit-learn's array-API estimator check is skipped unless SciPy's array-API
# support is switched on; switch it on so that the check runs.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor  # noqa: E402

#: Small, quick settings of each estimator for behaviour tests.
FAST = {
    IncrementalQuantileRegressor: dict(
        max_epochs=5, hidden_layer_sizes=(16,), n_knots=8, random_state=0
    ),
    ConvexQuantileRegressor: dict(
        max_epochs=5,
        hidden_layer_sizes=(16,),
        potential_layer_sizes=(8, 8),
        n_energy_samples=8,
        random_state=0,
    ),
}


@pytest.fixture(params=list(FAST), ids=lambda cls: cls.__name__)
def make(request):
    """Build the estimator under test with the fast settings.

    A test module may set ``FAST_OVERRIDES`` (a dict of parameters both
    estimators take) to change them for all its tests; keyword arguments of
    the returned builder override both.
    """
    cls = request.param
    module_overrides = getattr(request.module, "FAST_OVERRIDES", {})

    def build(**params):
        return cls(**{**FAST[cls], **module_overrides, **params})

    return build
