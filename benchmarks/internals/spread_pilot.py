"""Pilot: widen the convex estimator's joint law by a factor fitted on held-out rows.

A lead for the multi-target target (enb), not a default and not a suite.
The convex defaults are overconfident on the Mulan sets: their 90% joint
regions hold 0.63 to 0.84 of the test vectors. Two widenings keep the
quantile map the gradient of a convex potential, so every method of the
estimator would stay exact:

- ``scale``: ``y = c(x) + s (T(x, z) - c(x))`` with the centre
  ``c(x) = T(x, 0)``; this is the gradient in ``z`` of
  ``s phi(z) + (1 - s) <c(x), z>``;
- ``temperature``: ``y = T(x, t z)``, the gradient in ``z`` of
  ``phi(t z) / t`` (the latent Gaussian made wider).

For each standard split the script holds out 10% of the training rows
(seeded by the split), fits the estimator at its defaults on the other 90%
(StandardScaler on X, ``random_state`` = split, as in the multi-target
suite), picks the factor of each widening from a grid by the energy score of
the held-out rows, and scores the test rows with the suite's scoring module
(200 draws per row, seeded by the split):

- ``default``: the suite's cached record of the default fitted on the whole
  training part (what a user gets today);
- ``fit 90%``: the pilot's fit, not widened (what holding out costs);
- ``scale`` and ``temperature``: the same fit widened by the held-out factor;
- ``best scale``: the factor that is best on the test rows themselves, an
  upper bound of the idea, not a result.

    python benchmarks/internals/spread_pilot.py enb 0 1 2 3

It prints one Markdown row per split and the means over the splits.
"""

import argparse
import os
import sys

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402

HELD_OUT = 0.1
N_DRAWS = 200
#: Candidate factors of both widenings (1 keeps the fit as it is).
FACTORS = np.round(np.arange(0.8, 2.01, 0.05), 2)
WAYS = ("default", "fit 90%", "scale", "temperature", "best scale")
SHOWN = ("energy", "crps_mean", "joint_coverage90")


class Widened:
    """Draws and region membership of a fitted convex estimator, widened."""

    def __init__(self, estimator, X):
        self.estimator = estimator
        self.features = estimator._validated_features(X)
        d = estimator.n_outputs_
        self.centre = estimator._map(self.features, np.zeros((1, d)))[:, 0]

    def draws(self, way, factor, seed):
        latent = np.random.RandomState(seed).standard_normal(
            (len(self.features), N_DRAWS, self.estimator.n_outputs_)
        )
        if way == "temperature":
            return self.estimator._map(self.features, factor * latent)
        draws = self.estimator._map(self.features, latent)
        return self.centre[:, None] + factor * (draws - self.centre[:, None])

    def inside(self, way, factor, Y, X):
        """Whether each ``Y`` lies in the widened 90% region."""
        if way == "temperature":
            # The widened region is the image of the ball of radius
            # sqrt(chi2.ppf(0.9)) * t: the latent point of y has norm below it.
            from scipy import stats

            latent = self.estimator._inverse(self.features, np.asarray(Y, float))
            radius = np.sqrt(stats.chi2(Y.shape[1]).ppf(0.9)) * factor
            return np.linalg.norm(latent, axis=1) <= radius
        original = self.centre + (np.asarray(Y, float) - self.centre) / factor
        return self.estimator.region_contains(X, original, coverage=0.9)


def best_factor(widened, way, Y, seed):
    from skquantile import metrics

    scores = [
        metrics.energy_score(Y, widened.draws(way, factor, seed)) for factor in FACTORS
    ]
    return float(FACTORS[int(np.argmin(scores))])


def score_split(X, Y, train, test, split):
    """Scores of the 90% fit on the test rows, as it is and widened."""
    from harness.common import fit_holding_out
    from harness.scoring import score_joint

    from skquantile import ConvexQuantileRegressor

    scaler, estimator, held, seconds = fit_holding_out(
        ConvexQuantileRegressor(random_state=split), X, Y, train, split, HELD_OUT
    )
    X_held, X_test = scaler.transform(X[held]), scaler.transform(X[test])
    on_held, on_test = Widened(estimator, X_held), Widened(estimator, X_test)
    chosen = {
        "fit 90%": ("scale", 1.0),
        "scale": ("scale", best_factor(on_held, "scale", Y[held], split)),
        "temperature": (
            "temperature",
            best_factor(on_held, "temperature", Y[held], split),
        ),
        "best scale": ("scale", best_factor(on_test, "scale", Y[test], split)),
    }
    scores = {}
    for name, (way, factor) in chosen.items():
        scores[name] = score_joint(
            Y[test],
            on_test.draws(way, factor, split),
            on_test.inside(way, factor, Y[test], X_test),
        )
        scores[name]["factor"] = factor
    return scores, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="Mulan set, e.g. enb")
    parser.add_argument("splits", nargs="+", type=int, help="standard split indices")
    parser.add_argument("--data", default=None, help="data folder")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    loaded = _data.load_multioutput(_data.data_dir(args.data), args.dataset)
    if loaded is None:
        return 1
    X, Y = loaded
    splits = _data.standard_splits(len(Y), 20)
    from harness.common import default_records
    from harness.models import Convex

    reference = default_records("multioutput", Convex, args.dataset)
    header = " | ".join(f"{field} {way}" for field in SHOWN for way in WAYS)
    factors = " | ".join(f"factor {way}" for way in WAYS[2:])
    print(f"| split | fit s (90%) | {factors} | {header} |")
    print("|" + "---|" * (2 + len(WAYS[2:]) + len(SHOWN) * len(WAYS)))
    rows = []
    for split in args.splits:
        train, test = splits[split]
        scores, seconds = score_split(X, Y, train, test, split)
        scores["default"] = reference.get(split, {})
        values = [scores[way].get(field, np.nan) for field in SHOWN for way in WAYS]
        rows.append(values)
        cells = " | ".join(f"{value:.4g}" for value in values)
        chosen = " | ".join(f"{scores[way]['factor']:.2f}" for way in WAYS[2:])
        print(f"| {split} | {seconds:.0f} | {chosen} | {cells} |", flush=True)
    means = " | ".join(f"{value:.4g}" for value in np.nanmean(rows, axis=0))
    blanks = " | ".join("" for _ in WAYS[2:])
    print(f"| mean ({len(rows)} splits) | | {blanks} | {means} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
