"""
Conformal calibration of every level, and of joint regions
===========================================================

A predicted quantile promises a frequency: the 0.9 quantile should lie above
the observation nine times in ten. :class:`~skquantile.CalibratedQuantileRegressor`
recalibrates every level of a fitted model on rows it did not train on, with
a finite-sample guarantee for exchangeable data (see :ref:`conformal`).
This example checks that promise on held-out rows of two real data sets that
ship with Python packages: scikit-learn's diabetes data (one target) and the
Palmer penguins (two targets, a joint model).

By default (``cv="auto"``) the small data sets here, which the estimators
fit with an ensemble of networks, are cross-fitted: the estimator is fitted
on all the rows, and five clones of the same kind (the same number of
networks and batch size), each fitted without one fifth of the rows, score
those rows. A single network (the default from 10 001 rows) calibrates on
the rows it held out while training instead, at no extra cost.
"""

# %%
# One target: disease progression in the diabetes data
# ------------------------------------------------------
#
# Three random splits of the 442 patients; each model is fitted on 290 of
# them and checked on the other 152. For every level ``a`` we count the share
# of held-out patients whose progression lies at or below the predicted
# ``a``-quantile: a calibrated model puts it on the diagonal.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import ShuffleSplit

from skquantile import (
    CalibratedQuantileRegressor,
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
)
from skquantile.metrics import crps_from_quantiles, midpoint_levels

X, y = load_diabetes(return_X_y=True)
levels = np.linspace(0.05, 0.95, 19)
midpoints = midpoint_levels(99)
splits = ShuffleSplit(n_splits=3, test_size=152, random_state=0).split(X)

below = {"as fitted": [], "calibrated": []}
coverage = {"as fitted": [], "calibrated": []}
crps = {"as fitted": [], "calibrated": []}
for seed, (train, test) in enumerate(splits):
    model = CalibratedQuantileRegressor(
        IncrementalQuantileRegressor(random_state=seed)
    ).fit(X[train], y[train])
    for name, predictor in (("as fitted", model.estimator_), ("calibrated", model)):
        quantiles = predictor.predict_quantile(X[test], levels)
        below[name].append(y[test, None] <= quantiles)
        low, high = predictor.predict_interval(X[test], coverage=0.9).T
        coverage[name].append(np.mean((low <= y[test]) & (y[test] <= high)))
        crps[name].append(
            crps_from_quantiles(
                y[test], predictor.predict_quantile(X[test], midpoints), midpoints
            )
        )

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot([0, 1], [0, 1], color="grey", lw=1, label="perfect calibration")
for name, marker in (("as fitted", "o"), ("calibrated", "s")):
    share = np.concatenate(below[name]).mean(axis=0)
    ax.plot(levels, share, marker=marker, label=name)
    print(
        f"{name:>10}: 90% interval covers {np.mean(coverage[name]):.3f}, "
        f"CRPS {np.mean(crps[name]):.2f}, "
        f"mean |share below - level| {np.mean(np.abs(share - levels)):.3f}"
    )
ax.set_xlabel("level a")
ax.set_ylabel("share of held-out rows at or below Q(a | x)")
ax.set_title("Diabetes: every level, before and after")
ax.legend()
plt.show()

# %%
# Two targets: flipper length and body mass of penguins
# -----------------------------------------------------
#
# :class:`~skquantile.ConvexQuantileRegressor` models the joint law of two
# measurements of each penguin given its bill, species, island and sex. Its
# central regions are images of latent balls; the recalibration reads their
# radius from the held-out rows, so that the region of coverage ``c`` holds
# a share ``c`` of new penguins. The data ship with the ``palmerpenguins``
# package.
import pandas as pd
from palmerpenguins import load_penguins

penguins = load_penguins().dropna()
features = pd.get_dummies(
    penguins[["bill_length_mm", "bill_depth_mm", "species", "island", "sex"]],
    dtype=float,
).to_numpy()
targets = penguins[["flipper_length_mm", "body_mass_g"]].to_numpy(dtype=float)
mean, scale = features.mean(axis=0), features.std(axis=0)
features = (features - mean) / np.where(scale > 0, scale, 1.0)

coverages = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
inside = {"as fitted": [], "calibrated": []}
splits = ShuffleSplit(n_splits=2, test_size=113, random_state=0).split(features)
for seed, (train, test) in enumerate(splits):
    joint = CalibratedQuantileRegressor(ConvexQuantileRegressor(random_state=seed)).fit(
        features[train], targets[train]
    )
    for name, predictor in (("as fitted", joint.estimator_), ("calibrated", joint)):
        inside[name].append(
            [
                predictor.region_contains(features[test], targets[test], coverage=c)
                for c in coverages
            ]
        )

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
left.plot([0, 1], [0, 1], color="grey", lw=1, label="perfect calibration")
for name, marker in (("as fitted", "o"), ("calibrated", "s")):
    share = np.concatenate(inside[name], axis=1).mean(axis=1)
    left.plot(coverages, share, marker=marker, label=name)
    print(
        f"{name:>10}: regions of coverage {coverages} hold {np.round(share, 3)} "
        "of held-out penguins"
    )
left.set_xlabel("coverage of the region")
left.set_ylabel("share of held-out penguins inside")
left.set_title("Penguins: joint regions, before and after")
left.legend()

# The 0.9 regions of one held-out penguin, as fitted and calibrated.
row = features[test[:1]]
for name, predictor, style in (
    ("as fitted", joint.estimator_, "--"),
    ("calibrated", joint, "-"),
):
    contour = predictor.predict_region(row, coverage=0.9)[0]
    right.plot(contour[:, 0], contour[:, 1], style, label=f"0.9 region, {name}")
right.plot(*targets[test[0]], "k*", markersize=12, label="observed")
right.set_xlabel("flipper length (mm)")
right.set_ylabel("body mass (g)")
right.set_title("One held-out penguin")
right.legend()
plt.tight_layout()
plt.show()

# %%
# The recalibrated model is still a whole distribution: quantiles at any
# level never cross, ``predict_cdf`` is the exact inverse of
# ``predict_quantile``, and ``sample`` draws from the recalibrated law. The
# guarantee is marginal (on average over the rows), and it needs new rows
# that are exchangeable with the training rows.
