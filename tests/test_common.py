"""scikit-learn's estimator checks, on small instances.

The checks test the scikit-learn API (validation, cloning, pickling, sample
weights, dtypes, ...), not the quality of a long fit, and they fit the
estimator dozens of times each. The defaults train ensembles of five large
networks for up to 8000 optimiser steps, which made these checks take most
of the suite's time; small networks and a few epochs run the same code
paths. ``n_members=2`` keeps the ensemble path of the incremental estimator
covered, the convex one trains a single network (its ensemble path is
covered by test_ensemble.py). ``max_epochs`` is the fewest epochs that pass
``check_regressors_train``'s score threshold (R^2 > 0.5 on its training
data) with a margin: over seeds 0-5 the incremental instance scores 0.80 to
0.81 with 20 epochs (0.50 to 0.62 with 10), the convex one 0.74 to 0.80 with
30 (0.60 to 0.66 with 20).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor

ESTIMATORS = [
    IncrementalQuantileRegressor(
        max_epochs=20, hidden_layer_sizes=(16,), n_knots=8, n_members=2, random_state=0
    ),
    ConvexQuantileRegressor(
        max_epochs=30,
        hidden_layer_sizes=(16,),
        potential_layer_sizes=(8, 8),
        n_energy_samples=8,
        n_members=1,
        random_state=0,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
