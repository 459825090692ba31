"""Study: conformal calibration on the members' held-out rows, on the full protocol.

For every standard split of the UCI sets (and of the Mulan sets, and every
seed of the correlated-horizons generator) the script fits the default
estimator as the suites do (StandardScaler on X, ``random_state`` = split)
inside ``CalibratedQuantileRegressor(..., cv="members")``. That fit is the
default fit itself: calibrating on the rows the ensemble members held out
adds only the scoring of those rows. Both models are scored on the test
rows from the one fit:

- ``raw``: the estimator as fitted (``estimator_``), what the defaults give;
- ``conformal``: the recalibrated model.

UCI (``IncrementalQuantileRegressor``): CRPS from 99 levels, calibration
error over 19 levels, coverage of the 90% interval from the 0.05 and 0.95
quantiles (as the UCI suite scores it), and of ``predict_interval(X, 0.9)``.
Multi-target (``ConvexQuantileRegressor``): coverage of the central 0.5
and 0.9 joint regions (``region_contains``) and the energy score of 200
joint draws per row. Fit seconds, and the seconds of scoring the held-out
rows again on their own, are recorded per split.

    python benchmarks/studies/conformal.py uci --datasets boston,yacht
    python benchmarks/studies/conformal.py multioutput --datasets jura,slump
    python benchmarks/studies/conformal.py report

Records go to ``results/raw/conformal.jsonl`` as soon as each split is done
(a rerun skips what is there, so a long run can be split into chunks and
resumed); ``report`` writes ``results/conformal.md`` from them.
"""

import argparse
import os
import sys
import time

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402
from harness.common import (  # noqa: E402
    ResultCache,
    data_dir,
    machine_description,
    results_dir,
)

CACHE = results_dir(False) / "raw" / "conformal.jsonl"
REPORT = results_dir(False) / "conformal.md"
#: Bumped when the study's fits or scoring change, so older records are not reused.
VERSION = "1"
WAYS = ("raw", "conformal")


def _fit_calibrated(estimator, X, y, cv="members"):
    """StandardScaler on X, then the calibrated estimator; returns the scaler,
    the fitted model and its fit seconds (the scaler not included)."""
    from sklearn.preprocessing import StandardScaler

    from skquantile import CalibratedQuantileRegressor

    scaler = StandardScaler().fit(X)
    model = CalibratedQuantileRegressor(estimator, cv=cv)
    started = time.perf_counter()
    model.fit(scaler.transform(X), y)
    return scaler, model, time.perf_counter() - started


def _scoring_seconds(model, X, y):
    """Seconds to score the held-out rows again (the calibration's own cost);
    NaN for cross-fitting, whose cost is its fits."""
    if model.cv != "members":
        return float("nan")
    started = time.perf_counter()
    model.estimator_._held_out_scores(X, y)
    return time.perf_counter() - started


def uci_split(X, y, train, test, split, cv="members"):
    from harness.scoring import LEVELS, MIDPOINTS, score_quantiles

    from skquantile import IncrementalQuantileRegressor, metrics

    scaler, model, seconds = _fit_calibrated(
        IncrementalQuantileRegressor(random_state=split), X[train], y[train], cv
    )
    record = {"fit_seconds": seconds, "n_test": len(test)}
    record["scoring_seconds"] = _scoring_seconds(
        model, scaler.transform(X[train]), y[train]
    )
    X_test = scaler.transform(X[test])
    record["n_calibration"] = len(model.calibration_scores_)
    for way, predictor in (("raw", model.estimator_), ("conformal", model)):
        scores = score_quantiles(
            y[test],
            predictor.predict_quantile(X_test, LEVELS),
            predictor.predict_quantile(X_test, MIDPOINTS),
        )
        interval = predictor.predict_interval(X_test, 0.9)
        scores["interval90"] = float(metrics.interval_coverage(y[test], interval))
        for key, value in scores.items():
            record[f"{way}_{key}"] = value
    return record


def joint_split(X_train, Y_train, X_test, Y_test, split, n_draws=200, cv="members"):
    from harness.scoring import score_joint

    from skquantile import ConvexQuantileRegressor

    scaler, model, seconds = _fit_calibrated(
        ConvexQuantileRegressor(random_state=split), X_train, Y_train, cv
    )
    record = {"fit_seconds": seconds, "n_test": len(Y_test)}
    record["scoring_seconds"] = _scoring_seconds(
        model, scaler.transform(X_train), Y_train
    )
    X_test = scaler.transform(X_test)
    record["n_calibration"] = len(model.calibration_scores_)
    for way, predictor in (("raw", model.estimator_), ("conformal", model)):
        draws = predictor.sample(X_test, n_draws, random_state=split)
        inside90 = predictor.region_contains(X_test, Y_test, coverage=0.9)
        inside50 = predictor.region_contains(X_test, Y_test, coverage=0.5)
        scores = score_joint(Y_test, draws, inside90)
        scores["joint_coverage50"] = float(np.mean(inside50))
        for key, value in scores.items():
            record[f"{way}_{key}"] = value
    return record


#: How the folds of cross-fitting are sized, recorded with the records made
#: since the folds' clones take the final fit's automatic ensemble and batch
#: sizes; earlier cross-fitted records (without the field) resolved their own
#: on the folds' rows.
FOLD_SIZES = "final fit's"
#: The convex default's energy-score draws, recorded with the joint records
#: made since they became antithetic (the seventh session); earlier joint
#: records (without the field) trained on 32 independent draws per row.
JOINT_DRAWS = "16 antithetic"


def _run(cache, suite, dataset, split, compute, cv="members"):
    parts = ["conformal", VERSION, suite, dataset, split]
    extra = {}
    if cv != "members":
        parts.append(f"cv={cv}")
        parts.append("fold sizes=final")
        extra["fold_sizes"] = FOLD_SIZES
    if suite == "multioutput":
        parts.append(f"draws={JOINT_DRAWS}")
        extra["draws"] = JOINT_DRAWS
    key = ResultCache.key(*parts)
    if cache.get(key) is not None:
        return
    started = time.perf_counter()
    record = compute()
    record.update(key=key, suite=suite, dataset=dataset, split=split, cv=str(cv))
    record.update(extra)
    cache.put(record)
    print(
        f"[{suite}] {dataset} split {split}: {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def run_uci(cache, folder, datasets, splits, cv="members"):
    for dataset, X, y, split, train, test in _data.uci_splits(folder, datasets, splits):

        def compute(X=X, y=y, train=train, test=test, split=split):
            return uci_split(X, y, train, test, split, cv)

        _run(cache, "uci", dataset, split, compute, cv)


def run_multioutput(cache, folder, datasets, splits, cv="members"):
    for dataset in datasets:
        for split, load in _data.joint_splits(folder, dataset, splits):

            def compute(load=load, split=split):
                return joint_split(*load(), split, cv=cv)

            _run(cache, "multioutput", dataset, split, compute, cv)


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(np.mean(values)), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def _fmt(value, digits=4):
    return f"{value:.{digits}g}"


def _fold_sizes(records):
    """How the folds of these cross-fitted records were sized, for a title."""
    if records[0].get("fold_sizes") == FOLD_SIZES:
        return " with the final fit's ensemble and batch sizes"
    return ", each resolving its own automatic sizes (before they took the final fit's)"


def _ways(records):
    """The records grouped by way of calibrating: ``cv`` and, for
    cross-fitting, how the folds were sized (the members' rows first), and
    for the joint records by the convex default's draws (newest first)."""
    groups = {}
    for record in records:
        way = (
            record.get("cv", "members"),
            record.get("fold_sizes", ""),
            record.get("draws", ""),
        )
        groups.setdefault(way, []).append(record)
    return [
        (way[0], groups[way])
        for way in sorted(
            groups, key=lambda way: (len(way[0]), way[1], way[2]), reverse=True
        )
    ]


def _draws(records):
    """The convex default's energy-score draws of these joint records."""
    draws = records[0].get("draws", "32 independent (before the seventh session)")
    return f"; latent draws per row: {draws}"


def _uci_table(uci, cv, calibration_noise_floor):
    """The UCI table of the records of one way of calibrating."""
    title = (
        "## UCI (IncrementalQuantileRegressor defaults), calibrated on the "
        "members' held-out rows"
        if cv == "members"
        else f"## UCI (IncrementalQuantileRegressor defaults), cross-fitted ({cv} "
        f"folds{_fold_sizes(uci)}; fit s: the final fit and the folds' fits)"
    )
    lines = [
        title,
        "",
        "Targets: 90% interval coverage in [0.895, 0.925]; calibration error "
        "at most the noise floor + 0.005; CRPS at most 1% above raw.",
        "",
        "| set | splits | calibration rows | noise floor | calibration raw | "
        "calibration conformal | cov90 raw | cov90 conformal | "
        "predict_interval 0.9 conformal | CRPS99 raw | CRPS99 conformal | "
        "CRPS change | fit s | scoring s |",
        "|---|" + "---|" * 13,
    ]
    for dataset in _data.UCI_SETS:
        recs = [r for r in uci if r["dataset"] == dataset]
        if not recs:
            continue
        floor = calibration_noise_floor(int(np.median([r["n_test"] for r in recs])))

        def mean(field, recs=recs):
            return _mean_se([r[field] for r in recs])

        crps_raw, _ = mean("raw_crps99")
        crps_cal, _ = mean("conformal_crps99")
        change = np.mean([r["conformal_crps99"] / r["raw_crps99"] - 1 for r in recs])
        cells = [
            dataset,
            str(len(recs)),
            _fmt(np.median([r["n_calibration"] for r in recs]), 5),
            _fmt(floor, 3),
        ]
        for field in (
            "raw_calibration",
            "conformal_calibration",
            "raw_coverage90",
            "conformal_coverage90",
            "conformal_interval90",
        ):
            m, se = mean(field)
            cells.append(f"{m:.3f} ± {se:.3f}")
        cells += [
            _fmt(crps_raw),
            _fmt(crps_cal),
            f"{100 * change:+.2f}%",
            _fmt(np.median([r["fit_seconds"] for r in recs]), 3),
            _fmt(np.median([r["scoring_seconds"] for r in recs]), 3),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _joint_table(joint, cv):
    """The joint-region table of the records of one way of calibrating."""
    title = (
        "## Joint regions (ConvexQuantileRegressor defaults), calibrated on the "
        f"members' held-out rows{_draws(joint)}"
        if cv == "members"
        else f"## Joint regions (ConvexQuantileRegressor defaults), cross-fitted "
        f"({cv} folds{_fold_sizes(joint)}; fit s: the final fit and the folds' "
        f"fits{_draws(joint)})"
    )
    lines = [
        title,
        "",
        "Target: the 0.5 and 0.9 regions hold their coverage within ±0.02, "
        "averaged over splits.",
        "",
        "| set | splits | calibration rows | cov50 raw | cov50 conformal | "
        "cov90 raw | cov90 conformal | energy raw | energy conformal | fit s | "
        "scoring s |",
        "|---|" + "---|" * 10,
    ]
    names = [*_data.MULTIOUTPUT_SETS, *_data.multioutput_generators()]
    for dataset in names:
        recs = [r for r in joint if r["dataset"] == dataset]
        if not recs:
            continue
        cells = [
            dataset,
            str(len(recs)),
            _fmt(np.median([r["n_calibration"] for r in recs]), 5),
        ]
        for field in (
            "raw_joint_coverage50",
            "conformal_joint_coverage50",
            "raw_joint_coverage90",
            "conformal_joint_coverage90",
        ):
            m, se = _mean_se([r[field] for r in recs])
            cells.append(f"{m:.3f} ± {se:.3f}")
        for field in ("raw_energy", "conformal_energy"):
            cells.append(_fmt(np.mean([r[field] for r in recs])))
        cells += [
            _fmt(np.median([r["fit_seconds"] for r in recs]), 3),
            _fmt(np.median([r["scoring_seconds"] for r in recs]), 3),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def report(cache):
    from harness.report import calibration_noise_floor

    records = [r for r in cache.records() if r["key"].split("|")[1] == VERSION]
    machines = sorted({r.get("machine", "?") for r in records})
    lines = [
        "# Conformal calibration on the members' held-out rows",
        "",
        "`python benchmarks/studies/conformal.py uci|multioutput|report` (see its "
        "docstring). One fit per split: `raw` is the default estimator as "
        "fitted, `conformal` the same fit recalibrated by "
        '`CalibratedQuantileRegressor(..., cv="members")` on the rows its '
        "ensemble members held out. Means over splits (± standard error). "
        f"Measured on: {', '.join(machines)}; one thread per process, two "
        "processes side by side (one per core), so the seconds are indicative: "
        "compare scoring with fit seconds of one row.",
        "",
    ]
    uci_all = [r for r in records if r["suite"] == "uci"]
    for cv, uci in _ways(uci_all):
        lines += _uci_table(uci, cv, calibration_noise_floor)
    joint_all = [r for r in records if r["suite"] == "multioutput"]
    for cv, joint in _ways(joint_all):
        lines += _joint_table(joint, cv)
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", choices=("uci", "multioutput", "report"))
    parser.add_argument(
        "--datasets",
        default=None,
        help="comma-separated sets; a space in a name may be written _",
    )
    parser.add_argument("--splits", default=None, help="first-last, e.g. 0-9")
    parser.add_argument("--data", default=None, help="data folder")
    parser.add_argument(
        "--cv",
        default="members",
        help='"members" (default) or a number of folds for cross-fitting',
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    cache = ResultCache(CACHE)
    if args.suite == "report":
        report(cache)
        return 0
    splits = None
    if args.splits:
        first, last = (int(part) for part in args.splits.split("-"))
        splits = range(first, last + 1)
    if args.suite == "uci":
        datasets = args.datasets.split(",") if args.datasets else list(_data.UCI_SETS)
        print(machine_description(1))
        cv = args.cv if args.cv == "members" else int(args.cv)
        run_uci(cache, data_dir(args.data), datasets, splits, cv)
    else:
        datasets = (
            [name.replace("_", " ") for name in args.datasets.split(",")]
            if args.datasets
            else [*_data.MULTIOUTPUT_SETS, *_data.multioutput_generators()]
        )
        cv = args.cv if args.cv == "members" else int(args.cv)
        run_multioutput(cache, data_dir(args.data), datasets, splits, cv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
