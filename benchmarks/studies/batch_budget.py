"""Study: half the optimiser steps through batches twice as large, at equal epochs.

The automatic budget of ``IncrementalQuantileRegressor`` is about 8000
optimiser steps. On small data a step costs about the same whatever its
batch (the per-operation overhead dominates), so a fit's seconds follow its
steps. Halving the steps by halving the epochs lost accuracy (see
``results/speed.md``, section 5); this study halves them by doubling the
batch while keeping the default's epochs and patience in epochs, so every
row is seen as often as before. Two variants:

- ``batch2``: ``batch_size`` twice the automatic one, the default's
  ``max_epochs_`` and ``n_iter_no_change_``;
- ``batch2_lr``: the same with the learning rate times sqrt(2) (the usual
  scaling for a doubled batch).

Every split is fitted as the suites fit it (StandardScaler on X,
``random_state`` = split, one thread), the default first (its resolved sizes
set the variants'), and scored on the test rows: CRPS from 99 levels and fit
seconds.

    python benchmarks/studies/batch_budget.py run --datasets yacht,energy --splits 0-2
    python benchmarks/studies/batch_budget.py report

Records go to ``results/raw/batch_budget.jsonl`` as each fit ends (a rerun
skips what is there); ``report`` writes ``results/batch_budget.md``.
"""

import math
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

CACHE = results_dir(False) / "raw" / "batch_budget.jsonl"
REPORT = results_dir(False) / "batch_budget.md"
VERSION = "1"
VARIANTS = ("default", "batch2", "batch2_lr")


def _fit_and_score(X, y, train, test, split, params):
    from harness.scoring import MIDPOINTS
    from sklearn.preprocessing import StandardScaler

    from skquantile import IncrementalQuantileRegressor, metrics

    scaler = StandardScaler().fit(X[train])
    model = IncrementalQuantileRegressor(random_state=split, **params)
    started = time.perf_counter()
    model.fit(scaler.transform(X[train]), y[train])
    seconds = time.perf_counter() - started
    quantiles = model.predict_quantile(scaler.transform(X[test]), MIDPOINTS)
    return model, {
        "fit_seconds": seconds,
        "crps99": float(metrics.crps_from_quantiles(y[test], quantiles, MIDPOINTS)),
        "epochs": int(model.n_iter_),
        "max_epochs": int(model.max_epochs_),
        "batch_size": int(model.batch_size_),
        "patience": int(model.n_iter_no_change_),
    }


def run(cache, folder, datasets, splits):
    import torch

    torch.set_num_threads(1)
    for dataset, X, y, split, train, test in _data.uci_splits(folder, datasets, splits):
        keys = {
            v: ResultCache.key("batch_budget", VERSION, dataset, split, v)
            for v in VARIANTS
        }
        default = cache.get(keys["default"])
        if default is None:
            _, default = _fit_and_score(X, y, train, test, split, {})
            default.update(key=keys["default"], dataset=dataset, split=split)
            default["variant"] = "default"
            cache.put(default)
        for variant in VARIANTS[1:]:
            if cache.get(keys[variant]) is not None:
                continue
            params = {
                "batch_size": 2 * default["batch_size"],
                "max_epochs": default["max_epochs"],
                "n_iter_no_change": default["patience"],
            }
            if variant == "batch2_lr":
                params["learning_rate_init"] = 3e-3 * math.sqrt(2.0)
            _, record = _fit_and_score(X, y, train, test, split, params)
            record.update(
                key=keys[variant], dataset=dataset, split=split, variant=variant
            )
            cache.put(record)
        print(f"{dataset} split {split} done", flush=True)


def report(cache):
    from harness.report import mean_se_cell

    records = [r for r in cache.records() if r["key"].startswith("batch_budget|")]
    by = {}
    for r in records:
        by.setdefault(r["dataset"], {}).setdefault(r["split"], {})[r["variant"]] = r
    lines = [
        "# Half the steps through batches twice as large, at equal epochs",
        "",
        "`python benchmarks/studies/batch_budget.py run|report` (see its "
        "docstring). `IncrementalQuantileRegressor` defaults against the same "
        "fit with `batch_size` doubled and the default's epochs and patience "
        "(`batch2`), and with the learning rate times sqrt(2) too "
        "(`batch2_lr`); StandardScaler on X, one thread. Ratios are means over "
        "the splits of the per-split ratio to the default (± standard error). "
        f"Measured on: {', '.join(sorted({r.get('machine', '?') for r in records}))}"
        "; one thread per fit, another benchmark process beside it at times, so "
        "the seconds are indicative (each row's default and variants ran one "
        "after the other).",
        "",
        "| set | splits | CRPS default | CRPS batch2 / default | CRPS batch2_lr / "
        "default | fit s default | fit s batch2 / default |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset in sorted(by):
        complete = [s for s in by[dataset].values() if len(s) == len(VARIANTS)]
        if not complete:
            continue

        def ratios(variant, field, splits=complete):
            return np.array([s[variant][field] / s["default"][field] for s in splits])

        crps = np.mean([s["default"]["crps99"] for s in complete])
        seconds = np.mean([s["default"]["fit_seconds"] for s in complete])
        lines.append(
            f"| {dataset} | {len(complete)} | {crps:.4g} | "
            f"{mean_se_cell(ratios('batch2', 'crps99'))} | "
            f"{mean_se_cell(ratios('batch2_lr', 'crps99'))} | {seconds:.1f} | "
            f"{mean_se_cell(ratios('batch2', 'fit_seconds'))} |"
        )
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"Wrote {REPORT}")


def main():
    parser = study_arguments(__doc__, "yacht,energy,concrete,boston", splits=None)
    run_study(parser, CACHE, report, run)


if __name__ == "__main__":
    main()
