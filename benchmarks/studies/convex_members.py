"""Study: how many networks the convex estimator needs for several targets.

``n_members="auto"`` trains ``20000 // n_rows`` networks within 1 to 5 for
both estimators. For the incremental network that rule was measured (five
members cost about 1.5 times one member's step on small data), but the
convex network's step is arithmetic on every latent draw of every member,
so five members cost about four to five times one. This study fits
``ConvexQuantileRegressor`` at its defaults with ``n_members`` set, on the
multi-target generators (whose true law gives the oracle's energy score) at
several training sizes, and on Mulan standard splits:

    python benchmarks/studies/convex_members.py run \
        --datasets "correlated horizons,two targets" --sizes 1000,3000 \
        --members 1,2,5 --splits 0-2
    python benchmarks/studies/convex_members.py run --datasets scpf \
        --members 1,2,5 --splits 0-2
    python benchmarks/studies/convex_members.py report

A generator's seed ``s`` trains on ``size`` rows of seed ``s`` and is scored
on 2000 rows of seed ``1000 + s``; a Mulan set uses its standard split
``s`` (``--sizes`` does not apply). Each fit: StandardScaler on X,
``random_state`` = seed, one thread; scored with 500 joint draws per test row
(the oracle, where there is one, with 500 draws of the true law on the same
rows). Records go to ``results/raw/convex_members.jsonl`` as each fit ends
(a rerun skips what is there); ``report`` writes
``results/convex_members.md``.
"""

import os
import sys
import time

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402
from harness.common import (  # noqa: E402
    ResultCache,
    results_dir,
    run_study,
    study_arguments,
)

CACHE = results_dir(False) / "raw" / "convex_members.jsonl"
REPORT = results_dir(False) / "convex_members.md"
VERSION = "1"
DRAWS = 500
COVERAGE = "joint_coverage90"


def _arrays(folder, dataset, size, seed):
    """``(X_train, Y_train, X_test, Y_test, truth)``; ``truth`` (the true
    law, the same for every seed of a generator) is ``None`` for a Mulan
    set."""
    generators = _data.multioutput_generators()
    truth = None
    if dataset in generators:
        truth = generators[dataset](2, random_state=0)[2]
    for _, load in _data.joint_splits(folder, dataset, {seed}, n_train=size):
        return (*load(), truth)
    raise ValueError(f"no split {seed} of {dataset!r}")


def _record(X_train, Y_train, X_test, Y_test, seed, members):
    from harness.scoring import score_joint
    from sklearn.preprocessing import StandardScaler

    from skquantile import ConvexQuantileRegressor

    scaler = StandardScaler().fit(X_train)
    model = ConvexQuantileRegressor(n_members=members, random_state=seed)
    started = time.perf_counter()
    model.fit(scaler.transform(X_train), Y_train)
    seconds = time.perf_counter() - started
    X_test = scaler.transform(X_test)
    record = score_joint(
        Y_test,
        model.sample(X_test, DRAWS, random_state=seed),
        model.region_contains(X_test, Y_test, coverage=0.9),
    )
    record.update(
        fit_seconds=seconds,
        epochs=int(model.n_iter_),
        n_members=int(model.n_members_),
    )
    return record


def _oracle(X_test, Y_test, truth, seed):
    from harness.scoring import score_joint

    return score_joint(
        Y_test,
        truth.sample(X_test, DRAWS, random_state=seed),
        truth.region_contains(X_test, Y_test, coverage=0.9),
    )


def run(cache, folder, datasets, splits, sizes, members):
    import torch

    torch.set_num_threads(1)
    generators = _data.multioutput_generators()
    for dataset in datasets:
        for size in sizes if dataset in generators else [None]:
            for seed in sorted(splits):
                arrays = None
                for variant in [*members, "oracle"]:
                    key = ResultCache.key(
                        "convex_members", VERSION, dataset, size, seed, variant
                    )
                    if cache.get(key) is not None:
                        continue
                    if arrays is None:
                        arrays = _arrays(folder, dataset, size, seed)
                    if variant == "oracle":
                        if arrays[4] is None:
                            continue
                        record = _oracle(*arrays[2:], seed)
                    else:
                        record = _record(*arrays[:4], seed, variant)
                    record.update(
                        key=key,
                        dataset=dataset,
                        size=size if size is not None else len(arrays[1]),
                        split=seed,
                        variant=str(variant),
                    )
                    cache.put(record)
                    print(f"{dataset} {size} seed {seed} {variant}: {record}")


def report(cache):
    from harness.report import mean_se_cell

    records = [r for r in cache.records() if r["key"].startswith("convex_members|")]
    groups = {}
    for r in records:
        groups.setdefault((r["dataset"], r["size"]), {}).setdefault(r["split"], {})[
            r["variant"]
        ] = r
    machines = ", ".join(sorted({r.get("machine", "?") for r in records}))
    lines = [
        "# How many networks the convex estimator needs for several targets",
        "",
        "`python benchmarks/studies/convex_members.py run|report` (see its "
        "docstring). `ConvexQuantileRegressor` defaults with `n_members` set; "
        "StandardScaler on X, one thread per fit, two fits at a time on the "
        f"two cores; energy score from {DRAWS} joint draws per test row. Each "
        "number of networks is compared with five on the seeds or splits both "
        "ran: ratio = mean of the per-seed ratios (± standard error); excess = "
        "energy score minus the oracle's (the true law, same test rows) where "
        "there is one. Seconds are medians of the fits' own time. Measured "
        f"on: {machines}.",
        "",
        "| data | training rows | networks | seeds | energy | ratio to five | "
        "excess over oracle | joint cov90 | epochs | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, size), by_seed in sorted(groups.items()):
        variants = sorted(
            {v for s in by_seed.values() for v in s} - {"oracle"}, key=int
        )
        for variant in variants:
            seeds = [s for s in by_seed.values() if variant in s]
            energy = mean_se_cell([s[variant]["energy"] for s in seeds], ".4g", ".2g")
            paired = [s for s in seeds if "5" in s]
            ratio = "-"
            if paired and variant != "5":
                ratio = mean_se_cell(
                    [s[variant]["energy"] / s["5"]["energy"] for s in paired]
                )
            oracle = [s for s in seeds if "oracle" in s]
            excess = "-"
            if oracle:
                excess = mean_se_cell(
                    [s[variant]["energy"] - s["oracle"]["energy"] for s in oracle],
                    ".4f",
                )
            lines.append(
                f"| {dataset} | {size} | {variant} | {len(seeds)} | {energy} | "
                f"{ratio} | {excess} | "
                f"{np.mean([s[variant][COVERAGE] for s in seeds]):.3f} | "
                f"{np.median([s[variant]['epochs'] for s in seeds]):.0f} | "
                f"{np.median([s[variant]['fit_seconds'] for s in seeds]):.1f} |"
            )
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"Wrote {REPORT}")


def main():
    parser = study_arguments(__doc__, "correlated horizons", splits="0-2")
    parser.add_argument("--sizes", default="3000", help="generators' training rows")
    parser.add_argument("--members", default="1,2,5")

    def extra(args):
        return (
            [int(size) for size in args.sizes.split(",")],
            [int(m) for m in args.members.split(",")],
        )

    run_study(parser, CACHE, report, run, extra)


if __name__ == "__main__":
    main()
