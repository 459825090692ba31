"""
=========================================
Central prediction regions of two targets
=========================================

For two targets, a prediction *interval* per target is not enough: the pair
can be jointly unlikely even when each value is within its own interval. A
central **region** of coverage ``c`` holds the pair with probability ``c``.

:class:`~skquantile.ConvexQuantileRegressor` maps the standard normal law onto
the conditional law of the targets through the gradient of a convex function.
The image of the centred Gaussian ball of probability ``c`` is then a region
of model probability ``c``, whose boundary
:meth:`~skquantile.ConvexQuantileRegressor.predict_region` returns as a closed
contour, and :meth:`~skquantile.ConvexQuantileRegressor.region_contains` tells
whether observations lie inside it.

The data come from :func:`~skquantile.datasets.make_two_targets`: Gaussian
pairs whose means, spreads and correlation (from -0.8 to 0.8) all change with
the features, so the true regions are ellipses that tilt with ``x``.
"""

# %%
# Fit
# ---
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from skquantile import ConvexQuantileRegressor
from skquantile.datasets import make_two_targets

X, Y, truth = make_two_targets(n_samples=3000, random_state=0)
# One network with a (64, 64) context network fits in seconds; the default
# for several targets (five networks, a (128, 128, 128) context) fits about
# five times longer for a slightly better fit on these data.
model = ConvexQuantileRegressor(
    n_members=1, hidden_layer_sizes=(64, 64), random_state=0
).fit(X, Y)

# %%
# Regions at three feature values
# -------------------------------
# The correlation of the targets is ``0.8 tanh(2 x1)``: negative, zero and
# positive at the three chosen points. Each panel shows draws from the true
# conditional law, the model's 0.5 and 0.9 regions (solid) and the true ones
# (dashed ellipses).
points = np.array([[0.3, -0.8], [0.3, 0.0], [0.3, 0.8]])
angle = np.linspace(0, 2 * np.pi, 200)
circle = np.column_stack([np.cos(angle), np.sin(angle)])
draws = truth.sample(points, 400, random_state=1)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
for k, ax in enumerate(axes):
    x = points[k : k + 1]
    ax.scatter(*draws[k].T, s=4, color="0.6", label="true draws")
    for coverage, color in ((0.5, "tab:blue"), (0.9, "tab:orange")):
        contour = model.predict_region(x, coverage=coverage, n_points=200)[0]
        ax.plot(*contour.T, color=color, label=f"model {coverage:.0%}")
        radius = np.sqrt(stats.chi2.ppf(coverage, 2))
        root = np.linalg.cholesky(truth.covariance(x)[0])
        ellipse = truth.predict(x)[0] + radius * circle @ root.T
        ax.plot(*ellipse.T, color=color, linestyle="--", label=f"true {coverage:.0%}")
    ax.set_title(f"x = ({x[0, 0]:.1f}, {x[0, 1]:.1f})")
    ax.set_xlabel("target 1")
axes[0].set_ylabel("target 2")
axes[0].legend(loc="lower left", fontsize="small")
plt.show()

# %%
# Coverage on held-out data
# -------------------------
# Over 4000 new rows, each at its own ``x``, the share of observations inside
# the model's region of each coverage:
X_test, Y_test, _ = make_two_targets(n_samples=4000, random_state=2)
for coverage in (0.5, 0.8, 0.9, 0.95):
    inside = model.region_contains(X_test, Y_test, coverage=coverage).mean()
    true_inside = truth.region_contains(X_test, Y_test, coverage=coverage).mean()
    print(f"coverage {coverage:.2f}: model {inside:.3f}, true region {true_inside:.3f}")

# %%
# The regions are learned from 3000 rows in which each ``x`` appears once;
# they come close to the nominal coverage. Regions in more dimensions are
# harder: see the user guide on what the energy score does and does not
# constrain.
