"""
=====================================================
Backtesting demand forecasts on a real monthly series
=====================================================

A planner who orders stock for the next six months needs the distribution of
the *total* demand over those months, and the total's spread depends on how
the months move together: a slump rarely hits one month alone. This example
forecasts a real series six months ahead with

- :class:`~skquantile.ConvexQuantileRegressor`, one joint model of the six
  horizons (MQF2);
- :class:`~skquantile.IncrementalQuantileRegressor`, one quantile function
  per horizon from a shared network, the horizons drawn independently;
- a seasonal-naive baseline (the value twelve months earlier) with the
  empirical distribution of its past errors,

in a rolling-origin backtest, and scores the per-horizon distributions, the
joint ones, and the stock each sets for the six-month total.
"""

# %%
# The series
# ----------
# ``statsmodels`` ships the monthly turnover index of the euro area's
# manufacturers of electrical equipment (2010 = 100, adjusted for working days
# but not for the season), January 1995 to May 2016: 257 months of sales with
# a yearly cycle and the 2009 collapse, the nearest thing to a demand series
# among the data sets it ships. We treat one index point as one unit of
# demand.
import matplotlib.pyplot as plt
import numpy as np
from statsmodels.datasets import elec_equip

from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor
from skquantile.metrics import crps_from_samples, energy_score

series = elec_equip.load_pandas().data.iloc[:, 0]
demand = series.to_numpy()
months = series.index
print(f"{len(demand)} months, {months[0]:%b %Y} to {months[-1]:%b %Y}")

# %%
# Features and targets
# --------------------
# A forecast made at the end of month ``t`` sees the last ``window = 12``
# months. Everything is on the log scale relative to the level of that
# window (the log of its mean), so a model trained before the 2009 collapse
# still applies after it: the features are the twelve log ratios
# ``log(y[t - k] / level)`` and the sine and cosine of the calendar month
# being forecast first; the targets are ``log(y[t + h] / level)`` for the
# horizons ``h = 1, ..., 6``. A forecast in units is ``level * exp(target)``.
window, n_horizons = 12, 6
log_demand = np.log(demand)
ends = np.arange(window - 1, len(demand) - n_horizons)  # every usable origin t
log_level = np.log([demand[t - window + 1 : t + 1].mean() for t in ends])
next_month = months.month.to_numpy()[ends] % 12 + 1  # calendar month of t + 1
X = np.column_stack(
    [
        np.stack([log_demand[t - window + 1 : t + 1] for t in ends])
        - log_level[:, None],
        np.sin(2 * np.pi * next_month / 12),
        np.cos(2 * np.pi * next_month / 12),
    ]
)
Y = np.stack([log_demand[t + 1 : t + n_horizons + 1] for t in ends])
Y_relative = Y - log_level[:, None]
print(f"{len(X)} origins with a full window and six observed months after it")

# %%
# The backtest
# ------------
# The last 60 origins (forecasts made at the end of December 2010 to November
# 2015) are forecast, one per month. The models are refitted once a year, at
# the first origin of each block of twelve, on every origin whose six target
# months were already observed then, so nothing from the future leaks in:
# 175 training rows at the first refit, 223 at the last.
#
# To keep the whole script within a minute on two CPU cores, both networks
# are single networks (``n_members=1``, where the default would be an
# ensemble of five for data this small), and the joint model uses the small
# ``(64, 64)`` context network; the epochs are left to early stopping.
#
# The baseline forecasts ``y[t + h]`` by ``y[t + h - 12]`` and multiplies it by
# a past error ratio ``y[s + h] / y[s + h - 12]`` drawn from the training
# origins ``s``. Drawing the six ratios of one past origin together keeps
# their dependence (*joint errors*); drawing each horizon from its own origin
# keeps only the per-horizon quantiles (*independent errors*). Both versions
# have the same marginals.
n_test, refit_every, n_draws = 60, 12, 1000
test_rows = np.arange(len(ends) - n_test, len(ends))
seasonal_log = np.stack(
    [log_demand[t + 1 - 12 : t + n_horizons + 1 - 12] for t in ends]
)  # log of the value twelve months before each target month
names = [
    "convex (joint)",
    "incremental (independent)",
    "seasonal naive, joint errors",
    "seasonal naive, independent errors",
]
draws = {name: np.empty((n_test, n_draws, n_horizons)) for name in names}
rng = np.random.RandomState(0)
for block in range(0, n_test, refit_every):
    rows = test_rows[block : block + refit_every]
    train = ends + n_horizons <= ends[rows[0]]  # targets observed at the refit
    joint = ConvexQuantileRegressor(
        n_members=1, hidden_layer_sizes=(64, 64), random_state=0
    ).fit(X[train], Y_relative[train])
    independent = IncrementalQuantileRegressor(n_members=1, random_state=0).fit(
        X[train], Y_relative[train]
    )
    level = np.exp(log_level[rows])[:, None, None]
    test = slice(block, block + len(rows))
    draws[names[0]][test] = level * np.exp(
        joint.sample(X[rows], n_draws, random_state=block)
    )
    draws[names[1]][test] = level * np.exp(
        independent.sample(X[rows], n_draws, random_state=block)
    )
    errors = Y[train] - seasonal_log[train]
    base = np.exp(seasonal_log[rows])[:, None, :]
    whole = rng.randint(len(errors), size=(len(rows), n_draws))
    draws[names[2]][test] = base * np.exp(errors[whole])
    each = rng.randint(len(errors), size=(len(rows), n_draws, n_horizons))
    draws[names[3]][test] = base * np.exp(errors[each, np.arange(n_horizons)])
    print(
        f"refit at {months[ends[rows[0]]]:%b %Y}: {train.sum()} training rows, "
        f"{joint.n_iter_} and {independent.n_iter_} epochs"
    )
observed = demand[ends[test_rows][:, None] + np.arange(1, n_horizons + 1)]

# %%
# Per-horizon and joint scores
# ----------------------------
# The CRPS of each horizon (in index points, lower is better) judges the
# marginal distributions only; the energy score judges the six months
# jointly. All are estimated from the 1000 draws of each forecast and
# averaged over the 60 origins. The last column, ``<=q90``, is the share of
# realised months at or below the method's 90% quantile of that month, over
# all horizons: it checks the marginals before we add them up.
header = "".join(f"{h:>7}" for h in range(1, 7))
print(f"{'CRPS by horizon':>36}:{header}   <=q90")
crps = {}
for name in names:
    crps[name] = crps_from_samples(observed, draws[name], multioutput="raw_values")
    below = np.mean(observed <= np.quantile(draws[name], 0.9, axis=1))
    print(
        f"{name:>36}:" + "".join(f"{value:7.2f}" for value in crps[name]),
        f"{below:7.1%}",
    )

# %%
# To separate the dependence from the marginals, a fifth forecast takes the
# convex model's draws and shuffles them, horizon by horizon, across the
# draws of the same origin: every marginal (and so every CRPS above) is
# unchanged, and the horizons become independent.
order = rng.uniform(size=draws[names[0]].shape).argsort(axis=1)
draws["convex, horizons shuffled"] = np.take_along_axis(draws[names[0]], order, axis=1)
for name, samples in draws.items():
    print(f"{name:>36}: energy score {energy_score(observed, samples):.2f}")

# %%
# The stock for six months
# ------------------------
# At each origin the planner stocks the ``a``-quantile of the six-month total,
# taken from each method's draws of the total. The share of origins whose
# realised total stayed at or below the stock is the realised service level;
# the mean stock is what the promise costs.
observed_total = observed.sum(axis=1)
for target in (0.90, 0.95):
    print(f"target service level {target:.0%}")
    for name, samples in draws.items():
        stock = np.quantile(samples.sum(axis=2), target, axis=1)
        served = np.mean(observed_total <= stock)
        print(f"{name:>36}: served {served:6.1%}, mean stock {stock.mean():6.1f}")

# %%
# Forecasts at three origins
# --------------------------
# The bands are the joint model's 50% and 90% central intervals of each
# month, made at the dotted origins; the realised months are drawn thicker.
# The right panel repeats the CRPS by horizon (both versions of the baseline
# have the same marginals, so one line stands for them).
fig, (ax, ax_crps) = plt.subplots(
    1, 2, figsize=(11, 4), layout="constrained", width_ratios=(2.2, 1)
)
shown = months >= "2009-01-01"
ax.plot(months[shown], demand[shown], color="black", lw=1, label="turnover index")
for k in (0, 26, 52):
    dates = months[ends[test_rows[k]] + np.arange(1, n_horizons + 1)]
    low, q25, q75, high = np.quantile(
        draws[names[0]][k], [0.05, 0.25, 0.75, 0.95], axis=0
    )
    ax.fill_between(dates, low, high, color="tab:blue", alpha=0.25, lw=0)
    ax.fill_between(dates, q25, q75, color="tab:blue", alpha=0.45, lw=0)
    ax.plot(dates, observed[k], color="black", lw=1.8)
    ax.axvline(months[ends[test_rows[k]]], color="grey", lw=0.8, ls=":")
ax.set_ylabel("index (2010 = 100)")
ax.set_title("Six-month forecasts of the convex model (50% and 90% bands)")
ax.legend(loc="lower right")
for name, label, marker in zip(
    names[:3], ["convex (joint)", "incremental", "seasonal naive"], "osD", strict=True
):
    ax_crps.plot(range(1, 7), crps[name], marker=marker, label=label)
ax_crps.set_xlabel("horizon (months)")
ax_crps.set_ylabel("CRPS (index points)")
ax_crps.set_title("CRPS by horizon, 60 origins")
ax_crps.legend(fontsize="small")
plt.show()

# %%
# What the numbers show, and what they do not
# -------------------------------------------
# - Both networks beat the seasonal-naive baseline at every horizon, most at
#   the first months, where the last observed months say the most. Between
#   the two networks the CRPS differences are small and change sign from
#   horizon to horizon; refitting with other seeds moved them by as much, so
#   the backtest does not rank the two on their marginals.
# - The marginals of both networks are roughly calibrated: 87% to 89% of the
#   realised months lie at or below their 90% quantiles. Added up
#   independently, the same kind of marginals give a six-month total that is
#   far too narrow: stock set for 90% served about 70% of the origins. The
#   shuffled convex draws fail the same way, although their marginals are
#   exactly the joint model's: the shortfall comes from dropping the positive
#   dependence between months, not from the marginals. The energy score
#   notices the same thing only faintly (7.01 against 7.24 after shuffling).
# - The joint model's stock comes closest to its promise for about 14 units
#   (2%) more stock than the independent model's. At 95% it still served
#   fewer origins than promised: single small networks fitted to about 200
#   rows tend to be too sharp, and an ensemble (the estimators' default for
#   data this small, left out here for time) would widen them.
# - The baseline over-serves: with joint errors it served every origin at
#   90%, holding about 48 units more stock than the joint model. Its error
#   pool includes the 2009 collapse, which the calmer test years never
#   repeated. Its joint-error version holds more stock than its independent
#   one, again because the months' errors move together.
#
# These are 60 origins of one series, and neighbouring origins share five of
# their six months, so the served shares rest on far fewer independent
# six-month totals than 60: a difference of a few points is noise (one
# origin is 1.7 points). The large gap between the joint and the independent
# totals held for the three seeds we tried; the exact shares did not.
