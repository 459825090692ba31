"""How far cross-fitted calibration is from calibrating the final fit itself.

Two parts, both printed (nothing is written):

``floor``: what exact split-conformal calibration can reach on the UCI
study's sizes. Calibration scores of a perfectly calibrated model are
uniform; recalibrating with ``n_cal`` of them and measuring the calibration
error (19 levels, as the conformal study does) on ``n_test`` rows gives the
noise floor of a perfect model (no recalibration) and what an exact
conformal map adds to it. No model is fitted (seconds).

``fits``: on a generator with a known law, ``n`` training rows and 20 000
test rows (so that the test's own noise is small), for each data seed:

- ``raw A`` and ``raw B``: the default estimator fitted twice on the same
  rows with two seeds (how much the calibration of one fit depends on its
  seed);
- ``cross``: fit A recalibrated by K-fold cross-fitting (``--folds``, 5 by
  default) as ``CalibratedQuantileRegressor(cv=K)`` does it (folds with fit
  A's ensemble and batch sizes and its seed), the folds' scores mapped by
  their empirical distribution; ``cov90 folds`` is the share of the folds'
  scores inside the central 90% (how the fold models cover their held-out
  rows);
- ``members``: fit A recalibrated on its members' held-out rows
  (``cv="members"``, no extra fit);
- ``fresh``: fit A recalibrated on ``n`` fresh rows that it scores itself
  (exact split conformal with as many calibration rows).

Each seed costs K + 2 default fits (about 35 s on one thread for 455 rows
and five folds).

    python benchmarks/internals/crossfit_mismatch.py floor
    python benchmarks/internals/crossfit_mismatch.py fits --rows 455 --seeds 0-5
    python benchmarks/internals/crossfit_mismatch.py fits --folds 10 --seeds 0-5
"""

import argparse
import time

import numpy as np

LEVELS = np.arange(1, 20) / 20

#: Calibration rows (the cross-fitted training rows) and median test rows of
#: the UCI sets in ``results/conformal.md``.
UCI_SIZES = {
    "boston": (455, 51),
    "concrete": (927, 103),
    "energy": (691, 77),
    "kin8nm": (7373, 820),
    "wine": (1439, 160),
    "yacht": (277, 31),
}


def calibration_error(pit):
    """Mean over 19 levels of |share of PIT values at most the level - level|."""
    return float(np.mean(np.abs((pit[:, None] <= LEVELS).mean(0) - LEVELS)))


def recalibrated(pit, scores):
    """PIT values mapped by the rank of the calibration scores, (rank)/(n+1)."""
    return np.searchsorted(np.sort(scores), pit, side="right") / (len(scores) + 1)


def floor(repetitions=4000, seed=0):
    rng = np.random.default_rng(seed)
    print("| set | calibration rows | test rows | noise floor | exact conformal |")
    print("|---|---|---|---|---|")
    for name, (n_cal, n_test) in UCI_SIZES.items():
        perfect = np.mean(
            [calibration_error(rng.random(n_test)) for _ in range(repetitions)]
        )
        conformal = np.mean(
            [
                calibration_error(recalibrated(rng.random(n_test), rng.random(n_cal)))
                for _ in range(repetitions)
            ]
        )
        print(f"| {name} | {n_cal} | {n_test} | {perfect:.4f} | {conformal:.4f} |")


def fits(n_rows, seeds, n_folds=5):
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    from skquantile import CalibratedQuantileRegressor, IncrementalQuantileRegressor
    from skquantile._conformal import _like_final_fit
    from skquantile.datasets import make_heteroscedastic

    n_test = 20000
    print(
        "| seed | raw A | raw B | cross | members | fresh | cov90 raw A | "
        "cov90 folds | cov90 cross | cov90 members | cov90 fresh | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in seeds:
        start = time.perf_counter()
        X, y, _ = make_heteroscedastic(2 * n_rows + n_test, random_state=seed)
        train, test = slice(0, n_rows), slice(n_rows, n_rows + n_test)
        fresh_rows = slice(n_rows + n_test, None)
        members = CalibratedQuantileRegressor(
            IncrementalQuantileRegressor(random_state=seed), cv="members"
        ).fit(X[train], y[train])
        first = members.estimator_
        second = IncrementalQuantileRegressor(random_state=seed + 100).fit(
            X[train], y[train]
        )
        pit = first.predict_cdf(X[test], y[test])
        scores = np.empty(n_rows)
        folds = KFold(n_folds, shuffle=True, random_state=seed).split(X[train])
        for fit_rows, score_rows in folds:
            fold = _like_final_fit(clone(first), first)
            fold.fit(X[train][fit_rows], y[train][fit_rows])
            scores[score_rows] = fold.predict_cdf(
                X[train][score_rows], y[train][score_rows]
            )
        fresh = first.predict_cdf(X[fresh_rows], y[fresh_rows])
        cross, own = recalibrated(pit, scores), recalibrated(pit, fresh)
        by_members = members.predict_cdf(X[test], y[test])
        raw_b = calibration_error(second.predict_cdf(X[test], y[test]))

        def cover(values):
            return np.mean((values > 0.05) & (values <= 0.95))

        print(
            f"| {seed} | {calibration_error(pit):.4f} | {raw_b:.4f} | "
            f"{calibration_error(cross):.4f} | {calibration_error(by_members):.4f} | "
            f"{calibration_error(own):.4f} | {cover(pit):.3f} | {cover(scores):.3f} | "
            f"{cover(cross):.3f} | {cover(by_members):.3f} | {cover(own):.3f} | "
            f"{time.perf_counter() - start:.0f} |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["floor", "fits"])
    parser.add_argument("--rows", type=int, default=455, help="training rows")
    parser.add_argument("--seeds", default="0-5", help="data seeds, first-last")
    parser.add_argument("--folds", type=int, default=5, help="folds of cross-fitting")
    args = parser.parse_args()
    if args.part == "floor":
        floor()
        return
    first, last = (int(part) for part in args.seeds.split("-"))
    fits(args.rows, range(first, last + 1), args.folds)


if __name__ == "__main__":
    main()
