"""Pilot: recalibrate the levels of IncrementalQuantileRegressor on held-out rows.

A lead for the calibration target, not a default and not a suite. For each
standard split the script holds out 10% of the training rows (seeded by the
split), fits the estimator at its defaults on the other 90% (StandardScaler
on X, ``random_state`` = split, as in the UCI suite), and computes the
probability integral transform ``u = F(y | x)`` of the held-out rows with
``predict_cdf``. The recalibrated quantile at level ``a`` is the fitted
quantile at level ``G^{-1}(a)``, where ``G`` is the empirical distribution
of ``u`` (Kuleshov, Fenner and Ermon, ICML 2018): a monotone map of the
levels, so the quantiles still never cross. The test rows are scored with
the benchmarks' scoring module three ways:

- ``default``: the UCI suite's cached record of the default fitted on the
  whole training part (the reference a user gets today);
- ``fit 90%``: the pilot's fit on 90% of the training rows, levels as they
  are (what holding out the rows costs);
- ``recalibrated``: the same fit with the recalibrated levels.

    python benchmarks/studies/recalibration_pilot.py naval 0 1 2 3

It prints one Markdown row per split and the means over the splits.
"""

import argparse
import os
import sys

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402

SHOWN = ("crps99", "calibration", "coverage90")
WAYS = ("default", "fit 90%", "recalibrated")
HELD_OUT = 0.1


def recalibrated_levels(pit, levels):
    """``G^{-1}(levels)`` for the empirical distribution ``G`` of ``pit``,
    kept inside (0, 1) where the quantile function is defined."""
    return np.clip(np.quantile(pit, levels), 1e-4, 1.0 - 1e-4)


def score_split(X, y, train, test, split):
    """Scores of the 90% fit on the test rows, with and without recalibration."""
    from harness.common import fit_holding_out
    from harness.scoring import LEVELS, MIDPOINTS, score_quantiles

    from skquantile import IncrementalQuantileRegressor

    scaler, estimator, held, seconds = fit_holding_out(
        IncrementalQuantileRegressor(random_state=split), X, y, train, split, HELD_OUT
    )
    pit = estimator.predict_cdf(scaler.transform(X[held]), y[held]).ravel()
    X_test = scaler.transform(X[test])
    scores = {}
    for way, remap in (
        ("fit 90%", np.asarray),
        ("recalibrated", lambda levels: recalibrated_levels(pit, levels)),
    ):
        scores[way] = score_quantiles(
            y[test],
            estimator.predict_quantile(X_test, remap(LEVELS)),
            estimator.predict_quantile(X_test, remap(MIDPOINTS)),
        )
    return scores, seconds, len(held)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    _data.add_split_arguments(parser, "naval")
    args = parser.parse_args()
    loaded = _data.load_standard_splits(args)
    if loaded is None:
        return 1
    X, y, splits = loaded
    from harness.common import default_records
    from harness.models import Incremental

    reference = default_records("uci", Incremental, args.dataset)
    header = " | ".join(f"{field} {way}" for field in SHOWN for way in WAYS)
    print(f"| split | held-out rows | fit s (90%) | {header} |")
    print("|" + "---|" * (3 + len(SHOWN) * len(WAYS)))
    rows = []
    for split in args.splits:
        train, test = splits[split]
        scores, seconds, n_held = score_split(X, y, train, test, split)
        scores["default"] = reference.get(split, {})
        values = [scores[way].get(field, np.nan) for field in SHOWN for way in WAYS]
        rows.append(values)
        cells = " | ".join(f"{value:.4g}" for value in values)
        print(f"| {split} | {n_held} | {seconds:.0f} | {cells} |", flush=True)
    means = " | ".join(f"{value:.4g}" for value in np.mean(rows, axis=0))
    print(f"| mean ({len(rows)} splits) | | | {means} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
