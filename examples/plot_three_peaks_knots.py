"""
=====================================================
How many knots? A three-peak distribution, 5 vs 20
=====================================================

:class:`~skquantile.IncrementalQuantileRegressor` represents each row's
quantile function by its values at ``n_knots`` fixed levels, linear in
between, with exponential tails beyond the outer knots. A distribution with
several modes has a quantile function with steep rises (the gaps between the
modes) and flat stretches (the modes): few knots cannot follow it.

:func:`~skquantile.datasets.make_three_peaks` draws a target that is a
mixture of three narrow peaks whose positions move with the features. This
example fits 5 and 20 knots and compares both quantile functions, and the
densities they imply, with the truth for one feature vector, tails included.
"""

# %%
# Fit with 5 and with 20 knots
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_three_peaks
from skquantile.metrics import crps_from_quantiles, midpoint_levels

X, y, truth = make_three_peaks(n_samples=4000, random_state=0)
X_test, y_test, _ = make_three_peaks(n_samples=2000, random_state=1)
models = {
    n_knots: IncrementalQuantileRegressor(n_knots=n_knots, random_state=0).fit(X, y)
    for n_knots in (5, 20)
}

# %%
# Quantile functions against the truth
# ------------------------------------
# Left: the quantile function of one row over levels from 0.001 to 0.999
# (the outer parts are the exponential tails). Right: the distribution of
# model draws for the same row against draws from the truth.
x = X_test[:1]
levels = np.linspace(0.001, 0.999, 999)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
left.plot(levels, truth.predict_quantile(x, levels)[0], "k--", label="truth")
for n_knots, model in models.items():
    left.plot(levels, model.predict_quantile(x, levels)[0], label=f"{n_knots} knots")
    right.hist(
        model.sample(x, 20000, random_state=0)[0],
        bins=120,
        density=True,
        histtype="step",
        label=f"{n_knots} knots",
    )
right.hist(
    truth.sample(x, 20000, random_state=0)[0],
    bins=120,
    density=True,
    color="0.8",
    label="truth",
)
left.set_xlabel("level")
left.set_ylabel("quantile")
left.legend()
right.set_xlabel("target")
right.set_ylabel("density")
right.legend()
plt.show()

# %%
# With 5 knots the quantile function is a coarse broken line and the density
# it implies is a few flat blocks: the middle peak is lost and the outer ones
# are smeared. With 20 knots the quantile function follows the steps between
# the peaks and the three peaks appear. Beyond the outer knots both have
# exponential tails (the sharp edges of the histograms are where the tails
# meet the first and last linear pieces).
#
# Scores on held-out data
# -----------------------
# The CRPS (lower is better) over 2000 new rows, from 99 midpoint levels, and
# the oracle's for reference:
grid = midpoint_levels(99)
for n_knots, model in models.items():
    crps = crps_from_quantiles(y_test, model.predict_quantile(X_test, grid), grid)
    print(f"{n_knots:>2} knots: CRPS {crps:.4f}")
oracle = crps_from_quantiles(y_test, truth.predict_quantile(X_test, grid), grid)
print(f"  truth: CRPS {oracle:.4f}")

# %%
# The CRPS hardly tells the two apart: it averages the error over all levels,
# and a smeared peak costs little at any one level. Look at the shape of the
# predicted distribution, not only at the score, when choosing ``n_knots``;
# the user guide shows how to choose it by cross-validation.
