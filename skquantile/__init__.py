"""Whole conditional quantile functions as scikit-learn estimators."""

from . import datasets, metrics
from ._convex import ConvexQuantileRegressor
from ._incremental import IncrementalQuantileRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "ConvexQuantileRegressor",
    "IncrementalQuantileRegressor",
    "datasets",
    "metrics",
    "__version__",
]
