"""
===========================================
Stock for every service level from one fit
===========================================

A planner who stocks the ``a``-quantile of demand runs out with probability
``1 - a``: the level is the *service level*. Which level to choose is a cost
trade-off, and answering it needs the stock at many levels, not at one. A
model fitted once per level (quantile gradient boosting, a pinball-loss
network) must be refitted for every level the planner considers, and its
answers may cross. :class:`~skquantile.IncrementalQuantileRegressor` learns
the whole quantile function once; every level is then one query.

This example treats the target of
:func:`~skquantile.datasets.make_heavy_tailed` (Student-t noise with three
degrees of freedom, so large surprises happen) as a demand in units. It
draws, for three products (three feature vectors), the stock needed for every
service level between 80% and 99%, and the marginal cost of going from 94%
to 95%.
"""

# %%
# Fit once
# --------
import matplotlib.pyplot as plt
import numpy as np

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_heavy_tailed

X, y, truth = make_heavy_tailed(n_samples=4000, random_state=0)
demand = 10.0 * y + 100.0  # units of demand
model = IncrementalQuantileRegressor(random_state=0).fit(X, demand)

# %%
# The stock for every service level
# ---------------------------------
# One call answers 191 levels for three products; the curves never decrease,
# by construction. The dashed lines are the true quantiles.
products = np.array([[-0.8, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.0], [0.8, 1.0, 0.0, 0.0]])
levels = np.linspace(0.80, 0.99, 191)
stock = model.predict_quantile(products, levels)
true_stock = 10.0 * truth.predict_quantile(products, levels) + 100.0

fig, ax = plt.subplots(figsize=(6.5, 4))
for k, color in enumerate(["tab:blue", "tab:orange", "tab:green"]):
    ax.plot(100 * levels, stock[k], color=color, label=f"product {k + 1}")
    ax.plot(100 * levels, true_stock[k], color=color, linestyle="--")
ax.set_xlabel("service level (%)")
ax.set_ylabel("stock needed (units)")
ax.set_title("Stock by service level (dashed: truth)")
ax.legend()
plt.show()

# %%
# The fitted curves follow the true ones within a few units; their kinks are
# the knots (40 by default, one every 2.5 levels), between which the quantile
# function is linear. More knots, or spline pieces (``n_pieces``), smooth
# them.
#
# The price of one more percent
# -----------------------------
# Going from 94% to 95% costs the difference of two quantiles. Because the
# noise has heavy tails, each further percent costs more than the previous
# one: the curves above bend upwards.
extra_94_95 = np.diff(model.predict_quantile(products, [0.94, 0.95]), axis=1)[:, 0]
extra_98_99 = np.diff(model.predict_quantile(products, [0.98, 0.99]), axis=1)[:, 0]
for k in range(len(products)):
    print(
        f"product {k + 1}: 94% -> 95% costs {extra_94_95[k]:.1f} units, "
        f"98% -> 99% costs {extra_98_99[k]:.1f} units"
    )

# %%
# Does the promise hold?
# ----------------------
# On new data, the share of demands covered by the stock at each level should
# match the level.
X_test, y_test, _ = make_heavy_tailed(n_samples=4000, random_state=1)
demand_test = 10.0 * y_test + 100.0
for level in (0.80, 0.90, 0.95, 0.99):
    covered = np.mean(demand_test <= model.predict_quantile(X_test, level))
    print(f"service level {level:.0%}: demand covered {covered:.1%}")
