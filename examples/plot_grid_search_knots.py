"""
======================================================================
Choosing n_knots by grid search, and a comparison with quantile-forest
======================================================================

``n_knots`` decides how finely :class:`~skquantile.IncrementalQuantileRegressor`
can bend the body of each predicted quantile function. Rather than guess it,
this example chooses it by three-fold cross-validation of the CRPS with
:class:`~sklearn.model_selection.GridSearchCV` and
:data:`~skquantile.metrics.crps_scorer`.

The data come from :func:`~skquantile.datasets.make_three_peaks`: a target
made of three narrow peaks whose positions move with the features, so that
its quantile function has steep rises and flat stretches. The generator also
returns the true conditional distribution, which serves as an oracle. The
chosen network is then compared on new data with a quantile regression forest
(``RandomForestQuantileRegressor`` from the quantile-forest package), whose
leaf size is chosen by the same cross-validation, and with the oracle.
"""

# %%
# Data
# ----
# 2000 rows to train and choose on, and 2000 new rows to compare the final
# models on.
import matplotlib.pyplot as plt
import numpy as np
from quantile_forest import RandomForestQuantileRegressor
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_three_peaks
from skquantile.metrics import (
    calibration_error,
    crps_from_quantiles,
    crps_scorer,
    mean_pinball_loss,
    midpoint_levels,
)
from skquantile.plot import QuantileFanDisplay

X, y, truth = make_three_peaks(n_samples=2000, random_state=0)
X_test, y_test, _ = make_three_peaks(n_samples=2000, random_state=1)

# %%
# Grid search over the number of knots
# ------------------------------------
# :data:`~skquantile.metrics.crps_scorer` returns minus the CRPS estimated from
# 99 evenly spread levels, so that greater is better, as the search expects.
# The other parameters keep their defaults, except ``max_epochs``, which is
# fixed so that the example always takes about the same time.
knot_grid = [3, 5, 10, 20, 40]
network_search = GridSearchCV(
    IncrementalQuantileRegressor(max_epochs=50, random_state=0),
    param_grid={"n_knots": knot_grid},
    scoring=crps_scorer,
    cv=3,
)
network_search.fit(X, y)

results = network_search.cv_results_
fold_crps = -np.column_stack(
    [results[f"split{fold}_test_score"] for fold in range(network_search.n_splits_)]
)
print(f"{'n_knots':>8}{'mean CV CRPS':>14}{'fold std':>10}{'fit (s)':>9}")
for n_knots, crps, spread, seconds in zip(
    knot_grid,
    fold_crps.mean(axis=1),
    fold_crps.std(axis=1),
    results["mean_fit_time"],
    strict=True,
):
    print(f"{n_knots:>8}{crps:>14.4f}{spread:>10.4f}{seconds:>9.2f}")
print("chosen:", network_search.best_params_)

# %%
# Two spreads of the CV CRPS: between the folds for one candidate, and between
# the candidates for one fold (each averaged over the other axis).
print(f"between folds:      {fold_crps.std(axis=1).mean():.4f}")
print(f"between candidates: {fold_crps.std(axis=0).mean():.4f}")

# %%
# When the first is the larger, some validation rows are simply harder to
# predict than others, and the differences between the means are small
# against the error bars one would draw from the folds. Every candidate is
# scored on the same three folds, though, so compare the candidates fold by
# fold (grey lines) as well as on average (blue line).
fig, ax = plt.subplots(figsize=(6.5, 4))
for fold in range(fold_crps.shape[1]):
    ax.plot(knot_grid, fold_crps[:, fold], color="0.6", linewidth=1, marker=".")
ax.plot(knot_grid, fold_crps.mean(axis=1), color="C0", linewidth=2, marker="o")
ax.set_xscale("log")
ax.minorticks_off()
ax.set_xticks(knot_grid, [str(n_knots) for n_knots in knot_grid])
ax.set_xlabel("n_knots")
ax.set_ylabel("CV CRPS (lower is better)")
ax.set_title("CRPS of each fold (grey) and their mean (blue)")
plt.show()

# %%
# The gap between each candidate and the chosen one, fold by fold. A gap of
# the same sign on every fold is more convincing than a gap that changes sign
# between folds, which is within the noise of cross-validation.
best = network_search.best_index_
for index, n_knots in enumerate(knot_grid):
    gaps = fold_crps[index] - fold_crps[best]
    print(f"{n_knots:>3} knots, CRPS minus the chosen one's per fold:", gaps.round(4))

# %%
# A quantile forest chosen the same way
# -------------------------------------
# A quantile regression forest keeps the training targets in its leaves and
# reads the quantiles of a new row off the targets that share its leaves. Its
# main smoothing parameter is the leaf size, ``min_samples_leaf``. With
# ``default_quantiles`` set to the 99 midpoint levels, ``predict`` returns
# those quantiles, so :func:`~skquantile.metrics.crps_from_quantiles` (whose
# levels default to the midpoints) scores the forest on the same scale and the
# same folds as the network.
midpoints = midpoint_levels(99)
forest_search = GridSearchCV(
    RandomForestQuantileRegressor(default_quantiles=midpoints.tolist(), random_state=0),
    param_grid={"min_samples_leaf": [5, 20, 50, 100, 200]},
    scoring=make_scorer(crps_from_quantiles, greater_is_better=False),
    cv=3,
)
forest_search.fit(X, y)
for leaf, score in zip(
    forest_search.cv_results_["param_min_samples_leaf"],
    forest_search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"min_samples_leaf={leaf:>3}: mean CV CRPS {-score:.4f}")
print("chosen:", forest_search.best_params_)

# %%
# Scores on new data
# ------------------
# The two chosen models, refitted on all 2000 rows, and the true distribution
# are scored on the 2000 new rows: the CRPS from the 99 midpoint levels, the
# pinball loss averaged over the 19 levels 0.05, 0.10, ..., 0.95, and the
# calibration error at the same 19 levels (the mean gap between a level and
# the share of targets below its quantile). The fit time is that of the final
# refit on all rows. The oracle's scores are the best one can hope for on
# average; even the oracle has a calibration error, from sampling noise.
network = network_search.best_estimator_
forest = forest_search.best_estimator_
levels = np.linspace(0.05, 0.95, 19)
both = np.concatenate([midpoints, levels])
names = {
    "network": f"network, {network.n_knots} knots",
    "forest": f"forest, leaf {forest.min_samples_leaf}",
    "truth": "truth (oracle)",
}
quantiles = {
    "network": network.predict_quantile(X_test, both),
    "forest": forest.predict(X_test, quantiles=both.tolist()),
    "truth": truth.predict_quantile(X_test, both),
}
fit_seconds = {
    "network": f"{network_search.refit_time_:.2f}",
    "forest": f"{forest_search.refit_time_:.2f}",
    "truth": "-",
}

crps = {}
print(f"{'':>20}{'CRPS':>8}{'pinball':>9}{'calib.':>8}{'fit (s)':>9}")
for key, predicted in quantiles.items():
    at_midpoints, at_levels = np.split(predicted, [len(midpoints)], axis=1)
    crps[key] = crps_from_quantiles(y_test, at_midpoints, midpoints)
    pinball = mean_pinball_loss(y_test, at_levels, levels)
    calibration = calibration_error(y_test, at_levels, levels)
    print(
        f"{names[key]:>20}{crps[key]:>8.4f}{pinball:>9.4f}{calibration:>8.4f}"
        f"{fit_seconds[key]:>9}"
    )

# %%
# Most of the CRPS is the spread of the target itself, which no model can
# remove. What a model could still gain is its excess over the oracle:
for key in ("network", "forest"):
    print(f"{names[key]}: CRPS {crps[key] - crps['truth']:.4f} above the oracle")

# %%
# Quantile fans against the truth
# -------------------------------
# Along the first feature, with the second fixed at 0 (peaks 1.5 apart), the
# shaded bands are the central 50% and 90% intervals of each model and the
# dashed lines the true 0.05-, 0.25-, 0.5-, 0.75- and 0.95-quantiles. The
# grey points are the new rows whose second feature lies within 0.1 of 0.
x0 = np.linspace(-1, 1, 201)
X_grid = np.column_stack([x0, np.zeros_like(x0)])
fan_levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
true_fan = truth.predict_quantile(X_grid, fan_levels)
near = np.abs(X_test[:, 1]) < 0.1

fig, (left, right) = plt.subplots(
    1, 2, figsize=(11, 4.5), sharey=True, layout="constrained"
)
QuantileFanDisplay.from_estimator(
    network, X_grid, feature=0, coverages=(0.5, 0.9), ax=left
)
QuantileFanDisplay.from_predictions(
    x0,
    forest.predict(X_grid, quantiles=fan_levels.tolist()),
    fan_levels,
    coverages=(0.5, 0.9),
    ax=right,
    color="C1",
)
for ax, key in [(left, "network"), (right, "forest")]:
    ax.scatter(X_test[near, 0], y_test[near], s=6, color="0.5", zorder=1)
    for k in range(len(fan_levels)):
        ax.plot(
            x0,
            true_fan[:, k],
            color="k",
            linestyle="--",
            linewidth=1,
            label="true quantiles" if k == 0 else None,
        )
    ax.set_xlabel("x0 (x1 = 0)")
    ax.set_title(names[key])
    ax.legend(loc="upper left", fontsize="small")
plt.show()

# %%
# Because the peaks move with the first feature, the true quantiles are
# parallel straight lines. The network's bands bend smoothly with the
# features; the forest's move in steps and jitter, because a forest prediction
# is constant between the split points of its trees and each leaf holds a
# limited number of targets (at least ``min_samples_leaf``).
#
# The quantile function of one row
# --------------------------------
# A fan shows a few levels at many feature values. The quantile function of
# one row (here ``x = (0, 0)``) shows all levels at once, and with them the
# shape of the distribution: the two steep rises between the peaks and the
# flat stretches across them.
row = np.zeros((1, 2))
curve_levels = np.linspace(0.01, 0.99, 197)
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(
    curve_levels, truth.predict_quantile(row, curve_levels)[0], "k--", label="truth"
)
ax.plot(
    curve_levels,
    network.predict_quantile(row, curve_levels)[0],
    color="C0",
    label=names["network"],
)
ax.plot(
    curve_levels,
    forest.predict(row, quantiles=curve_levels.tolist())[0],
    color="C1",
    label=names["forest"],
)
ax.set_xlabel("level")
ax.set_ylabel("quantile")
ax.legend()
plt.show()

# %%
# Where the truth is flat, the row's target is in a peak; where it rises
# steeply, between two peaks. The network draws straight pieces between its
# knots; the forest draws the weighted empirical quantile function of the
# training targets that share leaves with the row, jagged where few of them
# fall. The scores on new data above say how much each shape costs on average
# over all rows.
