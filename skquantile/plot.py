"""Plots of predicted quantile functions, following scikit-learn's Display API.

matplotlib is an optional dependency (``pip install skquantile[plot]``): it
is imported only when a display is built, never by ``import skquantile``.
Import the displays from this module::

    from skquantile.plot import QuantileFanDisplay

Each display has a ``from_estimator`` and a ``from_predictions`` class
method that compute what is needed, build the display and call its
``plot`` method, which draws on an existing or new axes and returns the
display; the axes and figure are stored as ``ax_`` and ``figure_`` and the
drawn artists as further attributes ending in ``_``.
"""

import dataclasses
import textwrap
from collections.abc import Mapping
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._docstrings import shared_parameters
from ._pipelines import final_step, locate_method
from ._validation import (
    check_coverages,
    check_levels,
    check_quantile_columns,
    check_vector,
)


def _estimator_parameter(kind, methods, targets):
    """The Parameters heading and the ``estimator`` of a ``from_estimator``."""
    description = textwrap.fill(
        f"An estimator with {methods}, fitted on {targets}, or a Pipeline whose "
        "final step is one.",
        width=72,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    return f"Parameters\n----------\nestimator : fitted {kind}\n{description}"


_AXIS_LABELS = """xlabel : str, default={}
    Label of the horizontal axis.
ylabel : str, default={}
    Label of the vertical axis."""

#: Descriptions of the parameters, attributes, results and examples that
#: several displays share (:func:`~skquantile._docstrings.shared_parameters`).
_PARAMETERS = {
    "fan_estimator": _estimator_parameter(
        "estimator", "a ``predict_quantile`` method", "a single 1-d target"
    ),
    "calibration_estimator": _estimator_parameter(
        "estimator",
        "``predict_quantile`` (and ``predict_cdf`` for the PIT histogram)",
        "a single 1-d target",
    ),
    "region_estimator": _estimator_parameter(
        "ConvexQuantileRegressor", "a ``predict_region`` method", "two targets"
    ),
    "ax": """ax : matplotlib Axes, default=None
    Axes to draw on; a new figure is made when None.""",
    "fan_color": """color : str, default="C0"
    Colour of the bands and the median line.""",
    "fan_labels": _AXIS_LABELS.format("None", '"y"'),
    "region_color": """color : str, default="C0"
    Colour of the regions.""",
    "region_labels": _AXIS_LABELS.format('"y[0]"', '"y[1]"'),
    "one_axes_attributes": """ax_ : matplotlib Axes
    Axes of the display.
figure_ : matplotlib Figure
    Figure holding ``ax_``.""",
    "calibration_drawing_and_result": """kind : {"reliability", "pit", "both"}, \
default="reliability"
    What to draw.
ax : matplotlib Axes or sequence of two Axes, default=None
    Axes to draw on; a new figure is made when None.
n_bins : int, default=10
    Number of bins of the PIT histogram.

Returns
-------
display : QuantileCalibrationDisplay""",
    "single_target_example": """>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np
>>> from skquantile import IncrementalQuantileRegressor
>>> rng = np.random.RandomState(0)
>>> X = rng.uniform(size=(50, 1))
>>> y = X[:, 0] + rng.normal(scale=0.1, size=50)
>>> model = IncrementalQuantileRegressor(max_epochs=2, random_state=0)
>>> model = model.fit(X, y)""",
}
_shared = shared_parameters(_PARAMETERS)

#: The displays hold their data as keyword-only fields (scikit-learn's
#: Display objects take their data by keyword): no comparison or repr of
#: the arrays, only the generated ``__init__``.
_display = dataclasses.dataclass(kw_only=True, eq=False, repr=False)

__all__ = ["QuantileCalibrationDisplay", "QuantileFanDisplay", "RegionDisplay"]

_MISSING_MATPLOTLIB = (
    "matplotlib is required for skquantile.plot; pip install matplotlib"
)


def _pyplot():
    """Import ``matplotlib.pyplot``, with a clear message when it is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_MISSING_MATPLOTLIB) from exc
    return plt


def _check_ax(ax, name="ax"):
    """Return ``ax`` if it is a matplotlib Axes (or None)."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}."
        )
    return ax


def _new_axes(ax):
    """Return ``(figure, ax)``, creating a figure when ``ax`` is None."""
    plt = _pyplot()
    ax = _check_ax(ax)
    if ax is None:
        _, ax = plt.subplots()
    return ax.figure, ax


def _check_single_target(estimator, display):
    """Raise unless ``estimator`` (or the final step of a pipeline) is fitted,
    has quantile methods and one target."""
    if not hasattr(final_step(estimator), "predict_quantile") and not hasattr(
        estimator, "predict_quantile"
    ):
        raise TypeError(
            f"estimator must have a predict_quantile method (or be a Pipeline whose "
            f"final step has one), got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    n_outputs = getattr(final_step(estimator), "n_outputs_", 1)
    if n_outputs != 1:
        raise ValueError(
            f"{display} needs an estimator fitted on a single 1-d target; this one "
            f"was fitted on a multi-output target ({n_outputs} outputs)."
        )


def _single_target_quantiles(estimator, X, levels, display):
    """``estimator.predict_quantile(X, levels)``, which must be one column per
    level (a target fitted as a 2-d column gives one more axis)."""
    predict_quantile, X = locate_method(estimator, X, "predict_quantile")
    quantiles = np.asarray(predict_quantile(X, levels))
    if quantiles.ndim != 2:
        raise ValueError(
            f"{display} needs an estimator fitted on a single 1-d target; "
            f"predict_quantile returned an array of shape {quantiles.shape}."
        )
    return quantiles


def _finish(display, ax, figure, xlabel):
    """Label the axes of a one-panel display, add its legend and record its
    Axes and Figure; returns the display."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(display.ylabel)
    ax.legend(loc="best")
    display.ax_ = ax
    display.figure_ = figure
    return display


def _level_index(levels, level):
    """Index of ``level`` in ``levels`` (up to rounding), or None."""
    hits = np.flatnonzero(np.isclose(levels, level, rtol=0.0, atol=1e-9))
    return int(hits[0]) if hits.size else None


def _percent(coverage):
    return f"{100 * coverage:g}%"


@_shared
@_display
class QuantileFanDisplay:
    """Fan chart of predicted quantiles along one feature or over rows.

    Shaded central intervals of several coverages surround the predicted
    median, with the observed targets as points when given. Build it with
    :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Horizontal positions of the rows (a feature, or the row index).
    quantiles : ndarray of shape (n_samples, n_levels)
        Predicted quantiles of each row at ``levels``.
    levels : ndarray of shape (n_levels,)
        Quantile levels in (0, 1).
    y : ndarray of shape (n_samples,), default=None
        Observed targets, drawn as points.
    {fan_labels}

    Attributes
    ----------
    {one_axes_attributes}
    bands_ : dict of float to PolyCollection
        Shaded interval of each coverage.
    line_ : matplotlib Line2D or None
        Median line (None when 0.5 is not among the levels).
    scatter_ : matplotlib PathCollection or None
        Observed targets (None without ``y``).

    See Also
    --------
    QuantileCalibrationDisplay : Reliability of the predicted quantiles.

    Examples
    --------
    {single_target_example}
    >>> from skquantile.plot import QuantileFanDisplay
    >>> display = QuantileFanDisplay.from_estimator(model, X, y, feature=0)
    >>> sorted(display.bands_)
    [0.5, 0.8, 0.95]
    """

    x: np.ndarray
    quantiles: np.ndarray
    levels: np.ndarray
    y: np.ndarray | None = None
    xlabel: str | None = None
    ylabel: str | None = "y"

    @_shared
    def plot(self, ax=None, *, coverages=(0.5, 0.8, 0.95), color="C0"):
        """Draw the fan chart.

        Parameters
        ----------
        {ax}
        coverages : sequence of float, default=(0.5, 0.8, 0.95)
            Coverages of the shaded central intervals; the levels
            ``(1 - c) / 2`` and ``(1 + c) / 2`` of each must be in ``levels``.
        {fan_color}

        Returns
        -------
        self : QuantileFanDisplay
            The display, with the artists drawn.
        """
        levels, _ = check_levels(self.levels, name="levels")
        x = check_vector(self.x, "x")
        quantiles = check_quantile_columns(self.quantiles, len(levels), n_rows=len(x))
        y = None if self.y is None else check_vector(self.y, "y", length=len(x))
        coverages = check_coverages(coverages)
        bounds = {}
        for coverage in coverages:
            lower = _level_index(levels, (1.0 - coverage) / 2.0)
            upper = _level_index(levels, (1.0 + coverage) / 2.0)
            if lower is None or upper is None:
                raise ValueError(
                    f"coverages: the levels {(1 - coverage) / 2:g} and "
                    f"{(1 + coverage) / 2:g} of coverage {coverage:g} are not "
                    f"among levels {levels.tolist()}."
                )
            bounds[float(coverage)] = (lower, upper)
        figure, ax = _new_axes(ax)
        order = np.argsort(x, kind="stable")
        xs = x[order]
        self.bands_ = {}
        for rank, (coverage, (lower, upper)) in enumerate(bounds.items()):
            alpha = 0.15 + 0.45 * (rank + 1) / len(bounds)
            self.bands_[coverage] = ax.fill_between(
                xs,
                quantiles[order, lower],
                quantiles[order, upper],
                color=color,
                alpha=alpha,
                linewidth=0,
                label=f"{_percent(coverage)} interval",
            )
        median = _level_index(levels, 0.5)
        self.line_ = None
        if median is not None:
            (self.line_,) = ax.plot(
                xs, quantiles[order, median], color=color, linewidth=1.5, label="median"
            )
        self.scatter_ = None
        if y is not None:
            self.scatter_ = ax.scatter(
                x, y, s=8, color="black", alpha=0.6, zorder=3, label="observed"
            )
        return _finish(
            self, ax, figure, self.xlabel if self.xlabel is not None else "x"
        )

    @classmethod
    @_shared
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        feature=None,
        coverages=(0.5, 0.8, 0.95),
        ax=None,
        color="C0",
    ):
        """Predict quantiles with an estimator and draw the fan chart.

        {fan_estimator}
        X : array-like of shape (n_samples, n_features)
            Features of the rows to draw.
        y : array-like of shape (n_samples,), default=None
            Observed targets, drawn as points.
        feature : int, str or None, default=None
            Feature on the horizontal axis (rows are sorted by it): a column
            index, or a column name when ``X`` is a DataFrame. None plots
            over the row index.
        coverages : sequence of float, default=(0.5, 0.8, 0.95)
            Coverages of the shaded central intervals.
        {ax}
        {fan_color}

        Returns
        -------
        display : QuantileFanDisplay
        """
        _pyplot()
        _check_single_target(estimator, cls.__name__)
        coverages = check_coverages(coverages)
        levels = np.unique(
            np.concatenate([[0.5], (1.0 - coverages) / 2.0, (1.0 + coverages) / 2.0])
        )
        x, xlabel = _feature_values(X, feature)
        quantiles = _single_target_quantiles(estimator, X, levels, cls.__name__)
        return cls(x=x, quantiles=quantiles, levels=levels, y=y, xlabel=xlabel).plot(
            ax=ax, coverages=coverages, color=color
        )

    @classmethod
    @_shared
    def from_predictions(
        cls,
        x,
        quantiles,
        levels,
        y=None,
        *,
        coverages=(0.5, 0.8, 0.95),
        ax=None,
        xlabel=None,
        ylabel="y",
        color="C0",
    ):
        """Draw the fan chart of given quantiles.

        Parameters
        ----------
        x : array-like of shape (n_samples,)
            Horizontal positions of the rows; rows are sorted by it.
        quantiles : array-like of shape (n_samples, n_levels)
            Predicted quantiles at ``levels``.
        levels : array-like of shape (n_levels,)
            Quantile levels in (0, 1); must hold the bounds of each coverage.
        y : array-like of shape (n_samples,), default=None
            Observed targets, drawn as points.
        coverages : sequence of float, default=(0.5, 0.8, 0.95)
            Coverages of the shaded central intervals.
        {ax}
        {fan_labels}
        {fan_color}

        Returns
        -------
        display : QuantileFanDisplay
        """
        _pyplot()
        return cls(
            x=x, quantiles=quantiles, levels=levels, y=y, xlabel=xlabel, ylabel=ylabel
        ).plot(ax=ax, coverages=coverages, color=color)


def _feature_values(X, feature):
    """Values of ``feature`` in ``X`` and an axis label."""
    n_rows = len(X) if hasattr(X, "__len__") else np.asarray(X).shape[0]
    if feature is None:
        return np.arange(n_rows, dtype=np.float64), "row index"
    columns = getattr(X, "columns", None)
    if isinstance(feature, str):
        if columns is None or feature not in list(columns):
            raise ValueError(
                f"feature {feature!r} is not a column name of X; use a column "
                "index, or pass X as a DataFrame with that column."
            )
        return check_vector(np.asarray(X[feature]), "X[feature]"), feature
    if isinstance(feature, (bool, np.bool_)) or not isinstance(feature, Integral):
        raise TypeError(
            f"feature must be an int, a column name or None, got {feature!r}."
        )
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-d, got an array of shape {array.shape}.")
    if not -array.shape[1] <= feature < array.shape[1]:
        raise ValueError(
            f"feature {feature} is out of range for X with {array.shape[1]} columns."
        )
    label = str(columns[feature]) if columns is not None else f"feature {feature}"
    return check_vector(array[:, feature], "X[:, feature]"), label


_KINDS = ("reliability", "pit", "both")


def _check_kind(kind):
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    return kind


@_shared
@_display
class QuantileCalibrationDisplay:
    """Reliability plot of predicted quantiles, and PIT histogram.

    The reliability plot shows, for each nominal level ``a``, the share of
    observations at or below the predicted quantile ``Q(a)`` against ``a``;
    a calibrated model lies on the diagonal. The PIT histogram shows the
    predicted CDF at the observations, ``F(y | x)``, which is uniform for a
    calibrated model. Build it with :meth:`from_estimator` or
    :meth:`from_predictions`.

    Parameters
    ----------
    levels : ndarray of shape (n_levels,)
        Nominal levels.
    observed_share : ndarray of shape (n_levels,)
        Share of observations at or below the quantile of each level.
    pit : ndarray of shape (n_samples,), default=None
        Probability integral transform values ``F(y | x)`` in [0, 1].

    Attributes
    ----------
    ax_ : matplotlib Axes or ndarray of two Axes
        The axes drawn on: one for ``kind="reliability"`` or ``"pit"``,
        ``[reliability, pit]`` for ``kind="both"``.
    figure_ : matplotlib Figure
        Figure holding the axes.
    ax_reliability_ : matplotlib Axes or None
        Axes of the reliability plot.
    ax_pit_ : matplotlib Axes or None
        Axes of the PIT histogram.
    line_ : matplotlib Line2D or None
        Observed share against nominal level.
    diagonal_ : matplotlib Line2D or None
        The diagonal of perfect calibration.
    bars_ : matplotlib BarContainer or None
        Bars of the PIT histogram.
    uniform_line_ : matplotlib Line2D or None
        Density of the uniform distribution on the PIT histogram.

    See Also
    --------
    skquantile.metrics.calibration_error : Mean gap between share and level.

    Examples
    --------
    {single_target_example}
    >>> from skquantile.plot import QuantileCalibrationDisplay
    >>> display = QuantileCalibrationDisplay.from_estimator(model, X, y, kind="both")
    >>> display.observed_share.shape
    (19,)
    """

    levels: np.ndarray
    observed_share: np.ndarray
    pit: np.ndarray | None = None

    def plot(self, ax=None, *, kind="reliability", n_bins=10):
        """Draw the reliability plot, the PIT histogram or both.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of two Axes, default=None
            Axes to draw on (two, reliability then PIT, for
            ``kind="both"``); a new figure is made when None.
        kind : {"reliability", "pit", "both"}, default="reliability"
            What to draw. ``"pit"`` and ``"both"`` need ``pit``.
        n_bins : int, default=10
            Number of bins of the PIT histogram.

        Returns
        -------
        self : QuantileCalibrationDisplay
            The display, with the artists drawn.
        """
        plt = _pyplot()
        kind = _check_kind(kind)
        levels, _ = check_levels(self.levels, name="levels")
        share = check_vector(self.observed_share, "observed_share", len(levels))
        if np.any((share < 0.0) | (share > 1.0)):
            raise ValueError("observed_share must lie in [0, 1].")
        pit = None
        if kind != "reliability":
            if self.pit is None:
                raise ValueError(f"pit is required for kind={kind!r}; pass pit values.")
            pit = check_vector(self.pit, "pit")
            if np.any((pit < 0.0) | (pit > 1.0)):
                raise ValueError("pit must lie in [0, 1].")
        if isinstance(n_bins, (bool, np.bool_)) or not isinstance(n_bins, Integral):
            raise TypeError(f"n_bins must be an int, got {n_bins!r}.")
        if n_bins < 1:
            raise ValueError(f"n_bins must be at least 1, got {n_bins}.")
        if kind == "both":
            if ax is None:
                figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
            else:
                axes = np.asarray(ax, dtype=object).ravel()
                if axes.size != 2:
                    raise ValueError(
                        "ax must be a sequence of two Axes for kind='both', got "
                        f"{axes.size}."
                    )
                for item in axes:
                    _check_ax(item)
                figure = axes[0].figure
            ax_rel, ax_pit = axes
            self.ax_ = np.asarray([ax_rel, ax_pit], dtype=object)
        else:
            figure, single = _new_axes(ax)
            ax_rel = single if kind == "reliability" else None
            ax_pit = single if kind == "pit" else None
            self.ax_ = single
        self.ax_reliability_ = ax_rel
        self.ax_pit_ = ax_pit
        self.line_ = self.diagonal_ = self.bars_ = self.uniform_line_ = None
        if ax_rel is not None:
            (self.diagonal_,) = ax_rel.plot(
                [0, 1],
                [0, 1],
                linestyle="--",
                color="grey",
                label="perfectly calibrated",
            )
            (self.line_,) = ax_rel.plot(levels, share, marker="o", label="model")
            ax_rel.set_xlim(0, 1)
            ax_rel.set_ylim(0, 1)
            ax_rel.set_xlabel("nominal level")
            ax_rel.set_ylabel("observed share below quantile")
            ax_rel.set_title("Reliability")
            ax_rel.legend(loc="upper left")
        if ax_pit is not None:
            _, _, self.bars_ = ax_pit.hist(
                pit, bins=n_bins, range=(0, 1), density=True, alpha=0.7, label="PIT"
            )
            self.uniform_line_ = ax_pit.axhline(
                1.0, linestyle="--", color="grey", label="uniform"
            )
            ax_pit.set_xlim(0, 1)
            ax_pit.set_xlabel("PIT value F(y | x)")
            ax_pit.set_ylabel("density")
            ax_pit.set_title("PIT histogram")
            ax_pit.legend(loc="upper right")
        self.figure_ = figure
        return self

    @classmethod
    @_shared
    def from_estimator(
        cls, estimator, X, y, *, levels=None, kind="reliability", ax=None, n_bins=10
    ):
        """Compute calibration of an estimator on data and draw it.

        {calibration_estimator}
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Observed targets.
        levels : array-like of shape (n_levels,), default=None
            Nominal levels; None means the 19 levels 0.05, 0.10, ..., 0.95.
        {calibration_drawing_and_result}
        """
        _pyplot()
        kind = _check_kind(kind)
        _check_single_target(estimator, cls.__name__)
        if levels is None:
            levels = np.round(np.linspace(0.05, 0.95, 19), 10)
        levels, _ = check_levels(levels, name="levels")
        y = check_vector(y, "y")
        quantiles = _single_target_quantiles(estimator, X, levels, cls.__name__)
        quantiles = check_quantile_columns(quantiles, len(levels), n_rows=len(y))
        pit = None
        if kind != "reliability":
            try:
                predict_cdf, X_cdf = locate_method(estimator, X, "predict_cdf")
            except TypeError as error:
                raise TypeError(
                    f"kind={kind!r} needs an estimator with a predict_cdf method "
                    "(or a Pipeline whose final step has one)."
                ) from error
            pit = np.asarray(predict_cdf(X_cdf, y), dtype=np.float64)
        share = np.mean(y[:, None] <= quantiles, axis=0)
        return cls(levels=levels, observed_share=share, pit=pit).plot(
            ax=ax, kind=kind, n_bins=n_bins
        )

    @classmethod
    @_shared
    def from_predictions(
        cls, y, quantiles, levels, pit=None, *, kind="reliability", ax=None, n_bins=10
    ):
        """Compute calibration of given quantiles and draw it.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Observed targets.
        quantiles : array-like of shape (n_samples, n_levels)
            Predicted quantiles at ``levels``.
        levels : array-like of shape (n_levels,)
            Nominal levels in (0, 1).
        pit : array-like of shape (n_samples,), default=None
            Predicted CDF at the observations; needed for ``kind="pit"`` and
            ``kind="both"``.
        {calibration_drawing_and_result}
        """
        _pyplot()
        kind = _check_kind(kind)
        levels, _ = check_levels(levels, name="levels")
        y = check_vector(y, "y")
        quantiles = check_quantile_columns(quantiles, len(levels), n_rows=len(y))
        if pit is not None:
            pit = check_vector(pit, "pit", length=len(y))
        share = np.mean(y[:, None] <= quantiles, axis=0)
        return cls(levels=levels, observed_share=share, pit=pit).plot(
            ax=ax, kind=kind, n_bins=n_bins
        )


@_shared
@_display
class RegionDisplay:
    """Central prediction regions of two targets for one row.

    Each region of a given coverage is drawn as a shaded closed contour,
    with observations as points when given. Build it with
    :meth:`from_estimator` (for :class:`~skquantile.ConvexQuantileRegressor`)
    or :meth:`from_predictions`.

    Parameters
    ----------
    contours : dict of float to ndarray of shape (n_points, 2)
        Boundary of the region of each coverage.
    Y : ndarray of shape (n_samples, 2), default=None
        Observations, drawn as points.
    {region_labels}

    Attributes
    ----------
    {one_axes_attributes}
    lines_ : dict of float to Line2D
        Boundary line of each region.
    fills_ : dict of float to Polygon
        Shaded area of each region.
    scatter_ : matplotlib PathCollection or None
        Observations (None without ``Y``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skquantile import ConvexQuantileRegressor
    >>> from skquantile.plot import RegionDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(50, 1))
    >>> Y = np.column_stack([X[:, 0], X[:, 0]]) + rng.normal(size=(50, 2))
    >>> model = ConvexQuantileRegressor(max_epochs=2, random_state=0).fit(X, Y)
    >>> display = RegionDisplay.from_estimator(model, X[0], n_points=50)
    >>> sorted(display.lines_)
    [0.5, 0.9]
    """

    contours: dict
    Y: np.ndarray | None = None
    xlabel: str | None = "y[0]"
    ylabel: str | None = "y[1]"

    @_shared
    def plot(self, ax=None, *, color="C0"):
        """Draw the regions.

        Parameters
        ----------
        {ax}
        {region_color}

        Returns
        -------
        self : RegionDisplay
            The display, with the artists drawn.
        """
        contours = _check_contours(self.contours)
        Y = _check_points(self.Y)
        figure, ax = _new_axes(ax)
        self.lines_ = {}
        self.fills_ = {}
        for rank, (coverage, points) in enumerate(contours.items()):
            alpha = 0.15 + 0.35 * (rank + 1) / len(contours)
            (self.fills_[coverage],) = ax.fill(
                points[:, 0],
                points[:, 1],
                color=color,
                alpha=alpha,
                linewidth=0,
                label=f"{_percent(coverage)} region",
            )
            closed = np.vstack([points, points[:1]])
            (self.lines_[coverage],) = ax.plot(
                closed[:, 0],
                closed[:, 1],
                color=color,
                linewidth=1.0,
            )
        self.scatter_ = None
        if Y is not None:
            self.scatter_ = ax.scatter(
                Y[:, 0],
                Y[:, 1],
                s=8,
                color="black",
                alpha=0.6,
                zorder=3,
                label="observed",
            )
        return _finish(self, ax, figure, self.xlabel)

    @classmethod
    @_shared
    def from_estimator(
        cls,
        estimator,
        x,
        *,
        coverages=(0.5, 0.9),
        n_points=200,
        Y=None,
        ax=None,
        color="C0",
    ):
        """Predict the central regions of one row and draw them.

        {region_estimator}
        x : array-like of shape (n_features,) or (1, n_features)
            Features of the one row.
        coverages : sequence of float, default=(0.5, 0.9)
            Probabilities of the regions.
        n_points : int, default=200
            Points on each boundary.
        Y : array-like of shape (n_samples, 2), default=None
            Observations to draw as points.
        {ax}
        {region_color}

        Returns
        -------
        display : RegionDisplay
        """
        _pyplot()
        if not hasattr(final_step(estimator), "predict_region") and not hasattr(
            estimator, "predict_region"
        ):
            raise TypeError(
                f"estimator must have a predict_region method (e.g. "
                f"ConvexQuantileRegressor, or a Pipeline that ends in one), got "
                f"{type(estimator).__name__}."
            )
        check_is_fitted(estimator)
        n_outputs = getattr(final_step(estimator), "n_outputs_", None)
        if n_outputs != 2:
            raise ValueError(
                f"RegionDisplay needs an estimator fitted on 2 targets; this one "
                f"has {n_outputs} output(s)."
            )
        coverages = check_coverages(coverages)
        row = np.asarray(x)
        if row.ndim == 1:
            row = row[None, :]
        if row.ndim != 2 or row.shape[0] != 1:
            raise ValueError(
                "x must be one row of features, of shape (n_features,) or "
                f"(1, n_features), got shape {np.shape(x)}."
            )
        if hasattr(x, "columns"):
            row = x  # keep a one-row DataFrame as is, for feature names
        predict_region, row = locate_method(estimator, row, "predict_region")
        contours = {
            float(c): np.asarray(predict_region(row, c, n_points))[0] for c in coverages
        }
        return cls(contours=contours, Y=Y).plot(ax=ax, color=color)

    @classmethod
    @_shared
    def from_predictions(
        cls, contours, Y=None, *, ax=None, xlabel="y[0]", ylabel="y[1]", color="C0"
    ):
        """Draw given region boundaries.

        Parameters
        ----------
        contours : dict of float to array-like of shape (n_points, 2)
            Boundary of the region of each coverage (a closed or open
            polygon; it is closed for drawing).
        Y : array-like of shape (n_samples, 2), default=None
            Observations to draw as points.
        {ax}
        {region_labels}
        {region_color}

        Returns
        -------
        display : RegionDisplay
        """
        _pyplot()
        return cls(contours=contours, Y=Y, xlabel=xlabel, ylabel=ylabel).plot(
            ax=ax, color=color
        )


def _check_contours(contours):
    """Validate a mapping coverage -> (n_points, 2); return it widest first."""
    if not isinstance(contours, Mapping):
        raise TypeError(
            "contours must be a dict mapping coverage to an array of shape "
            f"(n_points, 2), got {type(contours).__name__}."
        )
    if not contours:
        raise ValueError("contours must hold at least one region, got an empty dict.")
    checked = {}
    for coverage, points in contours.items():
        (coverage,) = check_coverages([coverage], name="contours keys")
        try:
            array = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError("contours values must be arrays of numbers.") from exc
        if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] < 3:
            raise ValueError(
                "contours values must have shape (n_points, 2) with n_points >= 3, "
                f"got shape {array.shape} for coverage {coverage:g}."
            )
        if not np.all(np.isfinite(array)):
            raise ValueError("contours values must hold finite numbers only.")
        checked[float(coverage)] = array
    return dict(sorted(checked.items(), reverse=True))


def _check_points(Y):
    if Y is None:
        return None
    try:
        array = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("Y must be an array of numbers.") from exc
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"Y must have shape (n_samples, 2), got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("Y must hold finite numbers only.")
    return array
