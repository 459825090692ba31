"""Whole conditional quantile functions as scikit-learn estimators."""

from . import datasets, metrics
from ._conformal import CalibratedQuantileRegressor
from ._convex import ConvexQuantileRegressor
from ._incremental import IncrementalQuantileRegressor
from ._persistence import load_model, save_model
from ._version import __version__

__all__ = [
    "CalibratedQuantileRegressor",
    "ConvexQuantileRegressor",
    "IncrementalQuantileRegressor",
    "datasets",
    "load_model",
    "save_model",
    "metrics",
    "__version__",
]
