"""
==========================================
Quickstart: one fit, every quantile level
==========================================

This example fits an :class:`~skquantile.IncrementalQuantileRegressor` to
synthetic data whose conditional distribution is known, then asks the fitted
model questions at levels it was never told about: single quantiles,
central intervals, the distribution function and random draws. Every answer
is compared with the true conditional distribution, and the model is scored
with the functions of :mod:`skquantile.metrics`.
"""

# %%
# Data with a known conditional distribution
# -------------------------------------------
# :func:`~skquantile.datasets.make_heteroscedastic` draws four uniform
# features on ``[-1, 1]``. Only the first two matter: the target is Gaussian
# with mean ``sin(pi x0) + 0.5 x1`` and a standard deviation that grows with
# ``x0`` and ``|x1|``. Besides ``X`` and ``y`` it returns ``truth``, an object
# that answers the same questions as a fitted estimator with the exact
# answers, for any features.
import numpy as np
from sklearn.model_selection import train_test_split

from skquantile import IncrementalQuantileRegressor
from skquantile.datasets import make_heteroscedastic

X, y, truth = make_heteroscedastic(n_samples=2000, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
print(f"train: {X_train.shape}, test: {X_test.shape}")

# %%
# Fit once
# --------
# The estimator learns a whole quantile function per row. The defaults (40
# knots, three hidden layers of 128 GELU units, a training length, early
# stopping patience and ensemble size sized to the data) need no feature or
# target scaling: both are standardised inside ``fit``. On a few thousand
# rows the model predicts the mixture of five networks (the mean of their
# distribution functions), each trained with its own held-out rows.
model = IncrementalQuantileRegressor(random_state=0)
model.fit(X_train, y_train)
print(
    f"epochs run: {model.n_iter_}, knots: {len(model.knot_levels_)}, "
    f"networks: {model.n_members_}"
)

# %%
# Quantiles at arbitrary levels
# -----------------------------
# :meth:`~skquantile.IncrementalQuantileRegressor.predict_quantile` accepts
# any levels strictly inside (0, 1), in any number and order; they need not
# be knot levels. Because the quantile function is monotone by construction,
# the 0.94- and 0.95-quantiles never cross, however close the levels are.
levels = [0.05, 0.5, 0.94, 0.95]
predicted = model.predict_quantile(X_test[:3], levels)
true = truth.predict_quantile(X_test[:3], levels)

np.set_printoptions(precision=3, suppress=True)
print("levels:     ", np.array(levels))
for row in range(3):
    print(f"row {row} model", predicted[row])
    print("      truth", true[row])

q_094, q_095 = model.predict_quantile(X_test, [0.94, 0.95]).T
print("0.95-quantile >= 0.94-quantile on every test row:", bool((q_095 >= q_094).all()))

# %%
# Over the whole test set, the gap between predicted and true quantiles is
# smallest near the median and grows towards the tails, where fewer
# observations pin the quantiles down.
grid = np.linspace(0.05, 0.95, 19)
gap = np.abs(
    model.predict_quantile(X_test, grid) - truth.predict_quantile(X_test, grid)
).mean(axis=0)
print(f"standard deviation of y_test: {y_test.std():.3f}")
for k in (0, 9, 18):
    print(f"mean |Q_model - Q_true| at level {grid[k]:.2f}: {gap[k]:.3f}")

# %%
# Central intervals
# -----------------
# ``predict_interval(X, coverage=0.9)`` returns the 0.05- and 0.95-quantiles
# as the lower and upper bounds of an interval meant to hold 90 % of the
# targets.
interval = model.predict_interval(X_test, coverage=0.9)
print("first intervals:\n", interval[:3])

# %%
# The distribution function
# -------------------------
# ``predict_cdf(X, y)`` evaluates the predicted conditional distribution
# function at one target value per row. It inverts ``predict_quantile``
# exactly, and at the observed targets it gives the probability integral
# transform, which is uniform on (0, 1) for a well-specified model.
q94 = model.predict_quantile(X_test, 0.94)
print(f"F(Q(0.94)) on the test set: {model.predict_cdf(X_test, q94).mean():.4f}")

pit = model.predict_cdf(X_test, y_test)
true_pit = truth.predict_cdf(X_test, y_test)
print(f"mean |F_model(y) - F_true(y)|: {np.abs(pit - true_pit).mean():.3f}")
for level in (0.1, 0.5, 0.9):
    print(f"share of PIT values below {level}: {np.mean(pit <= level):.3f}")

# %%
# Sampling
# --------
# ``sample`` draws targets from each row's predicted distribution by feeding
# uniform levels into the quantile function. The empirical quantiles of many
# draws approach the predicted quantiles.
draws = model.sample(X_test[:1], n_samples=20000, random_state=0)
print("draws shape:", draws.shape)
print("empirical quantiles:", np.quantile(draws[0], levels))
print("predicted quantiles:", model.predict_quantile(X_test[:1], levels)[0])

# %%
# Scores
# ------
# :mod:`skquantile.metrics` scores predicted quantiles, intervals and draws.
# Scoring the true distribution the same way gives the best value one can
# hope for on this test set (the *oracle*); the model should come close.
from skquantile.metrics import (
    calibration_error,
    crps_from_quantiles,
    crps_from_samples,
    interval_coverage,
    mean_pinball_loss,
    midpoint_levels,
)

midpoints = midpoint_levels(99)


def scores(predictor):
    """Score any object with ``predict_quantile`` on the test set."""
    quantiles = predictor.predict_quantile(X_test, grid)
    bounds = predictor.predict_quantile(X_test, [0.05, 0.95])
    return {
        "pinball (19 levels)": mean_pinball_loss(y_test, quantiles, grid),
        "CRPS (99 midpoints)": crps_from_quantiles(
            y_test, predictor.predict_quantile(X_test, midpoints), midpoints
        ),
        "calibration error": calibration_error(y_test, quantiles, grid),
        "90% coverage": interval_coverage(y_test, bounds),
    }


model_scores, oracle_scores = scores(model), scores(truth)
print(f"{'':>22}{'model':>8}{'oracle':>8}")
for name in model_scores:
    print(f"{name:>22}{model_scores[name]:8.3f}{oracle_scores[name]:8.3f}")

# %%
# The CRPS can also be estimated from draws alone, which works for any model
# that can sample; with enough draws it agrees with the quantile-based value.
samples = model.sample(X_test, n_samples=200, random_state=0)
print(f"CRPS from 200 draws per row: {crps_from_samples(y_test, samples):.3f}")

# %%
# A fan chart along the first feature
# -----------------------------------
# To see the whole quantile function at once, fix ``x1 = 0`` (and the noise
# features at 0), move ``x0`` along a grid, and draw bands between symmetric
# levels. The dashed lines are the true quantiles at the same levels.
import matplotlib.pyplot as plt

x0 = np.linspace(-1, 1, 200)
X_grid = np.zeros((len(x0), X.shape[1]))
X_grid[:, 0] = x0
fan_levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
fan = model.predict_quantile(X_grid, fan_levels)
fan_true = truth.predict_quantile(X_grid, fan_levels)

fig, ax = plt.subplots(figsize=(7, 4.5))
near = np.abs(X_train[:, 1]) < 0.1
order = np.argsort(X_train[near, 0])
ax.scatter(
    X_train[near, 0][order],
    y_train[near][order],
    s=8,
    color="0.6",
    label="training rows with |x1| < 0.1",
)
ax.fill_between(x0, fan[:, 0], fan[:, 4], alpha=0.25, color="C0", label="model 5-95%")
ax.fill_between(x0, fan[:, 1], fan[:, 3], alpha=0.45, color="C0", label="model 25-75%")
ax.plot(x0, fan[:, 2], color="C0", label="model median")
for k in range(len(fan_levels)):
    ax.plot(
        x0,
        fan_true[:, k],
        color="k",
        linestyle="--",
        linewidth=1,
        label="true quantiles" if k == 0 else None,
    )
ax.set_xlabel("x0 (x1 = 0, other features 0)")
ax.set_ylabel("y")
ax.set_title("Predicted and true conditional quantiles")
ax.legend(loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# The predicted median follows the true one closely. The bands reveal where
# the model is weakest: the true spread grows with ``|x1|``, so it is smallest
# on this slice, yet the predicted bands are wider than the true ones, most
# visibly for negative ``x0`` (the grey training rows near ``x1 = 0`` stay
# inside the narrower true band). With 1500 training rows the network has
# learned only part of how the spread depends on ``x1``. The average coverage
# above hides this; scoring groups of rows separately shows it: the 90 %
# intervals cover too much where ``|x1|`` is small and too little where it is
# large.
from skquantile.metrics import interval_width

true_interval = truth.predict_quantile(X_test, [0.05, 0.95])
for name, rows in [
    ("|x1| < 0.3", np.abs(X_test[:, 1]) < 0.3),
    ("|x1| > 0.7", np.abs(X_test[:, 1]) > 0.7),
]:
    print(
        f"{name}: coverage {interval_coverage(y_test[rows], interval[rows]):.3f}, "
        f"mean width {interval_width(interval[rows]):.3f} "
        f"(true width {interval_width(true_interval[rows]):.3f})"
    )
