"""Score one fit of IncrementalQuantileRegressor with both ways of pooling.

``pooling`` only changes how a fitted ensemble's members are combined, so
one fit per split serves both: the script fits the estimator at its defaults
(StandardScaler on X, ``random_state`` = split, as in the UCI suite), scores
the test rows with the members' quantiles averaged and with their mixture,
and prints one row per split and the means, with the benchmarks' scoring
module.

    python benchmarks/studies/compare_pooling.py concrete 0 1 2 3 4

``--records`` instead compares the records of the benchmark suites in
``results/raw/``: those of the default against those measured with the
other pooling as the default (each configuration has its own settings hash),
on the splits both have, and prints one table per suite.

    python benchmarks/studies/compare_pooling.py --records
"""

import argparse
import json
import os
import sys
import time

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402

#: The two values of ``IncrementalQuantileRegressor(pooling=...)``.
POOLINGS = ("quantiles", "mixture")

SHOWN = ("crps99", "calibration", "coverage90", "width90")


#: Per suite, the scores compared by ``--records`` (the first one decides
#: the "lower on" column).
RECORD_FIELDS = {
    "uci": ("crps99", "calibration", "coverage90"),
    "generators": ("crps99", "calibration", "coverage90"),
    "multioutput": ("energy", "variogram", "joint_coverage90"),
}


def compare_records(raw):
    """Markdown tables: the default's cached records against those of the
    default with the other pooling, per suite and data set."""
    from harness.common import settings_hash
    from harness.models import Incremental

    default = Incremental(1, 0)._estimator().pooling
    other = next(p for p in POOLINGS if p != default)
    hashes = {
        default: settings_hash(Incremental.signature()),
        other: settings_hash(Incremental.signature(pooling=other)),
    }
    text = []
    for suite, fields in RECORD_FIELDS.items():
        records = {p: {} for p in POOLINGS}
        path = raw / f"{suite}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            for pooling, digest in hashes.items():
                if record.get("model") == Incremental.name and record["key"].endswith(
                    digest
                ):
                    where = (record["dataset"], record["split"])
                    records[pooling][where] = record
        common = sorted(set(records[default]) & set(records[other]))
        if not common:
            continue
        columns = " | ".join(f"{f} {p}" for f in fields for p in POOLINGS)
        text.append(
            f"### {suite}\n\n| set | splits | {columns} | {fields[0]} lower "
            f"with the mixture |\n|" + "---|" * (3 + 2 * len(fields))
        )
        for dataset in dict.fromkeys(d for d, _ in common):
            keys = [k for k in common if k[0] == dataset]
            pair = {p: [records[p][k] for k in keys] for p in POOLINGS}
            cells = " | ".join(
                f"{np.mean([r[f] for r in pair[p]]):.5g}"
                for f in fields
                for p in POOLINGS
            )
            first = [
                (m[fields[0]], q[fields[0]])
                for m, q in zip(pair["mixture"], pair["quantiles"], strict=True)
            ]
            lower = (
                "identical (one network)"
                if all(m == q for m, q in first)
                else f"{sum(m < q for m, q in first)} of {len(keys)}"
            )
            text.append(f"| {dataset} | {len(keys)} | {cells} | {lower} |")
        text.append("")
    return "\n".join(text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--records"]:
        from harness.common import BENCH_DIR

        print(compare_records(BENCH_DIR / "results" / "raw"))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _data.add_split_arguments(parser, "concrete")
    args = parser.parse_args(argv)
    loaded = _data.load_standard_splits(args)
    if loaded is None:
        return 1
    X, y, splits = loaded
    from harness.scoring import LEVELS, MIDPOINTS, score_quantiles
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
