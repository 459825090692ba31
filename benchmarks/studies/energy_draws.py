"""Study: fewer latent draws per row for the convex estimator's energy score.

A training step of ``ConvexQuantileRegressor`` for several targets costs
about linearly in ``n_energy_samples`` (five networks evaluate the potential
and its gradient at every draw). Fewer draws add Monte Carlo noise to every
row's score and gradient; antithetic pairs (half the latent points the
negations of the others, the pairs left out of the spread term) cancel much
of it. Variants, each fitted as the multi-target suite fits the defaults
(StandardScaler on X, ``random_state`` = split, one thread) and scored on the
test rows with 200 joint draws per row:

- ``independent32``: 32 independent draws per row (the default before the
  antithetic pairs);
- ``independent8``, ``independent16``: 8 and 16 independent draws;
- ``antithetic8``, ``antithetic16``: 8 and 16 draws in antithetic pairs;
- for one target (UCI sets, CRPS from 99 levels): ``independent32``,
  ``antithetic32`` (the default for one target since) and ``antithetic8``.

Independent draws are the package's antithetic code with no pairs.

    python benchmarks/studies/energy_draws.py run --datasets jura,slump --splits 0-19
    python benchmarks/studies/energy_draws.py run --datasets "correlated horizons" \
        --splits 0-1
    python benchmarks/studies/energy_draws.py run --datasets yacht,boston --splits 0-2
    python benchmarks/studies/energy_draws.py report

Records go to ``results/raw/energy_draws.jsonl`` as each fit ends (a rerun
skips what is there); ``report`` writes ``results/energy_draws.md``.
"""

import contextlib
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

CACHE = results_dir(False) / "raw" / "energy_draws.jsonl"
REPORT = results_dir(False) / "energy_draws.md"
VERSION = "1"
#: Variant name -> (draws per row, antithetic pairs?).
JOINT_VARIANTS = {
    "independent32": (32, False),
    "antithetic8": (8, True),
    "antithetic16": (16, True),
    "independent8": (8, False),
    "independent16": (16, False),
}
ONE_TARGET_VARIANTS = {
    "independent32": (32, False),
    "antithetic32": (32, True),
    "antithetic8": (8, True),
}
#: Variants run by default (the others on request, ``--variants``).
DEFAULT_VARIANTS = ("independent32", "antithetic8", "antithetic32")
COVERAGE = "joint_coverage90"


@contextlib.contextmanager
def _independent_draws():
    """The package's draws and score without antithetic pairs."""
    from skquantile import _convex_network

    original = _convex_network.antithetic_pairs
    _convex_network.antithetic_pairs = lambda n_draws: 0
    try:
        yield
    finally:
        _convex_network.antithetic_pairs = original


def _fit(estimator, X, y, antithetic):
    started = time.perf_counter()
    with contextlib.nullcontext() if antithetic else _independent_draws():
        estimator.fit(X, y)
    return time.perf_counter() - started


def _joint_record(X_train, Y_train, X_test, Y_test, seed, draws, antithetic):
    from harness.scoring import score_joint
    from sklearn.preprocessing import StandardScaler

    from skquantile import ConvexQuantileRegressor

    scaler = StandardScaler().fit(X_train)
    model = ConvexQuantileRegressor(n_energy_samples=draws, random_state=seed)
    seconds = _fit(model, scaler.transform(X_train), Y_train, antithetic)
    X_test = scaler.transform(X_test)
    record = score_joint(
        Y_test,
        model.sample(X_test, 200, random_state=seed),
        model.region_contains(X_test, Y_test, coverage=0.9),
    )
    record.update(fit_seconds=seconds, epochs=int(model.n_iter_))
    return record


def _one_target_record(X, y, train, test, split, draws, antithetic):
    from harness.scoring import MIDPOINTS
    from sklearn.preprocessing import StandardScaler

    from skquantile import ConvexQuantileRegressor, metrics

    scaler = StandardScaler().fit(X[train])
    model = ConvexQuantileRegressor(n_energy_samples=draws, random_state=split)
    seconds = _fit(model, scaler.transform(X[train]), y[train], antithetic)
    quantiles = model.predict_quantile(scaler.transform(X[test]), MIDPOINTS)
    return {
        "crps99": float(metrics.crps_from_quantiles(y[test], quantiles, MIDPOINTS)),
        "fit_seconds": seconds,
        "epochs": int(model.n_iter_),
    }


def run(cache, folder, datasets, splits, variants):
    import torch

    torch.set_num_threads(1)
    for dataset in datasets:
        if dataset in _data.UCI_SETS:
            table = ONE_TARGET_VARIANTS
            items = (
                (split, (X, y, train, test))
                for _, X, y, split, train, test in _data.uci_splits(
                    folder, [dataset], splits
                )
            )
            score = _one_target_record
        else:
            table = JOINT_VARIANTS
            items = (
                (split, load())
                for split, load in _data.joint_splits(folder, dataset, splits)
            )
            score = _joint_record
        for split, arrays in items:
            for variant in variants:
                if variant not in table:
                    continue
                key = ResultCache.key("energy_draws", VERSION, dataset, split, variant)
                if cache.get(key) is not None:
                    continue
                draws, antithetic = table[variant]
                record = score(*arrays, split, draws, antithetic)
                record.update(key=key, dataset=dataset, split=split, variant=variant)
                cache.put(record)
                print(f"{dataset} split {split} {variant}: {record}", flush=True)


def report(cache):
    from harness.report import mean_se_cell

    records = [r for r in cache.records() if r["key"].startswith("energy_draws|")]
    by = {}
    for r in records:
        by.setdefault(r["dataset"], {}).setdefault(r["split"], {})[r["variant"]] = r
    machines = ", ".join(sorted({r.get("machine", "?") for r in records}))
    lines = [
        "# Latent draws of the convex estimator's energy score",
        "",
        "`python benchmarks/studies/energy_draws.py run|report` (see its "
        "docstring). `ConvexQuantileRegressor` defaults with `n_energy_samples` "
        "set, independent or antithetic draws; StandardScaler on X, one "
        "thread per fit, two fits at a time on the two cores. Each variant is "
        "compared with 32 independent draws on the splits both ran: score "
        "ratio = mean over splits of the per-split ratio (± standard error); "
        "seconds are medians of the fits' own time. Energy score from 200 "
        "joint draws per test row for several targets, CRPS from 99 levels "
        f"for one. Measured on: {machines}.",
        "",
        "| set | variant | splits | score, 32 independent | score, variant | "
        "ratio | variant better on | fit s, 32 independent | fit s, variant | "
        "joint cov90, 32 independent / variant |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset in sorted(by):
        variants = {v for s in by[dataset].values() for v in s} - {"independent32"}
        variants = sorted(variants)
        for variant in variants:
            pairs = [
                s for s in by[dataset].values() if variant in s and "independent32" in s
            ]
            if not pairs:
                continue
            field = "energy" if "energy" in pairs[0]["independent32"] else "crps99"
            base = np.array([s["independent32"][field] for s in pairs])
            other = np.array([s[variant][field] for s in pairs])
            seconds = [
                np.median([s[name]["fit_seconds"] for s in pairs])
                for name in ("independent32", variant)
            ]
            coverage = "-"
            if field == "energy":
                coverage = " / ".join(
                    f"{np.nanmean([s[name].get(COVERAGE, np.nan) for s in pairs]):.3f}"
                    for name in ("independent32", variant)
                )
            lines.append(
                f"| {dataset} | {variant} | {len(pairs)} | {base.mean():.4g} | "
                f"{other.mean():.4g} | {mean_se_cell(other / base)} | "
                f"{int((other < base).sum())} of {len(pairs)} | {seconds[0]:.1f} | "
                f"{seconds[1]:.1f} | {coverage} |"
            )
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"Wrote {REPORT}")


def main():
    parser = study_arguments(__doc__, "jura,slump")
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help=f"comma-separated among {sorted({*JOINT_VARIANTS, *ONE_TARGET_VARIANTS})}",
    )
    run_study(parser, CACHE, report, run, lambda args: (args.variants.split(","),))


if __name__ == "__main__":
    main()
