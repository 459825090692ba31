"""Score one fit of IncrementalQuantileRegressor with both ways of pooling.

``pooling`` only changes how a fitted ensemble's members are combined, so
one fit per split serves both: the script fits the estimator at its defaults
(StandardScaler on X, ``random_state`` = split, as in the UCI suite), scores
the test rows with the members' quantiles averaged and with their mixture,
and prints one row per split and the means, with the benchmarks' scoring
module.

    python benchmarks/compare_pooling.py concrete 0 1 2 3 4
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402

POOLINGS = ("quantiles", "mixture")
SHOWN = ("crps99", "calibration", "coverage90", "width90")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _data.add_split_arguments(parser, "concrete")
    args = parser.parse_args(argv)
    loaded = _data.load_standard_splits(args)
    if loaded is None:
        return 1
    X, y, splits = loaded
    from _scoring import LEVELS, MIDPOINTS, score_quantiles
    from sklearn.preprocessing import StandardScaler

    from skquantile import IncrementalQuantileRegressor

    header = " | ".join(f"{m} {p}" for m in SHOWN for p in POOLINGS)
    print(f"| split | members | {header} |\n|" + "---|" * (2 + 2 * len(SHOWN)))
    scores = {p: [] for p in POOLINGS}
    for split in args.splits:
        train, test = splits[split]
        start = time.perf_counter()
        scaler = StandardScaler().fit(X[train])
        estimator = IncrementalQuantileRegressor(random_state=split)
        estimator.fit(scaler.transform(X[train]), y[train])
        seconds = time.perf_counter() - start
        X_test = scaler.transform(X[test])
        for pooling in POOLINGS:
            estimator.net_.module_.pooling = pooling
            scores[pooling].append(
                score_quantiles(
                    y[test],
                    estimator.predict_quantile(X_test, LEVELS),
                    estimator.predict_quantile(X_test, MIDPOINTS),
                )
            )
        cells = " | ".join(f"{scores[p][-1][m]:.5g}" for m in SHOWN for p in POOLINGS)
        print(
            f"| {split} | {estimator.n_members_} | {cells} |  (fit {seconds:.0f} s)",
            flush=True,
        )
    means = " | ".join(
        f"{np.mean([s[m] for s in scores[p]]):.5g}" for m in SHOWN for p in POOLINGS
    )
    print(f"| mean | | {means} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
