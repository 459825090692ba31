"""Pilot: predict with the cross-fitted fold models themselves (CV+ style).

Cross-fitting (``CalibratedQuantileRegressor(cv=5)``) fits the estimator on
all the rows and calibrates it on out-of-fold scores of five *other* fits,
so it calibrates the estimator's typical fit, not the final fit's own
seed-to-seed deviation (``results/crossfit_mismatch.md``). Each fold model,
though, is calibrated exactly (split conformal) by the fold it did not train
on. This pilot keeps the five fold models, recalibrates each on its own
held-out fold (``cv="prefit"``), and predicts with all five:

- ``raw``: the final fit, as fitted;
- ``crossfit``: the final fit recalibrated on the pooled out-of-fold scores
  (what ``cv=5`` does);
- ``quantile_average``: the average of the five recalibrated fold models'
  quantile functions (exact quantiles; the average of models that are each
  calibrated is calibrated or conservative);
- ``mixture``: the mixture of the five recalibrated fold models (the mean of
  their distribution functions; quantiles by bisection).

Same fits as the conformal study's cross-fitted records (StandardScaler on
X, ``random_state`` = split, 5 unshuffled folds with the final fit's
ensemble and batch sizes), one thread:

    python benchmarks/studies/fold_models_pilot.py run --datasets yacht,energy \
        --splits 0-4
    python benchmarks/studies/fold_models_pilot.py report

Records go to ``results/raw/fold_models_pilot.jsonl`` as each split ends;
``report`` writes ``results/fold_models_pilot.md``.
"""

import os
import sys
import time
import warnings

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

CACHE = results_dir(False) / "raw" / "fold_models_pilot.jsonl"
REPORT = results_dir(False) / "fold_models_pilot.md"
VERSION = "1"
WAYS = ("raw", "crossfit", "quantile_average", "mixture")
FOLDS = 5
BISECTION_STEPS = 25


def _mixture_quantiles(models, X, levels):
    """Quantiles of the mixture (mean distribution function) of ``models``
    at ``levels`` for every row of ``X``, by bisection between the smallest
    and largest of the models' own quantiles (which bracket it)."""
    own = np.stack([model.predict_quantile(X, levels) for model in models])
    low, high = own.min(0), own.max(0)
    n_rows, n_levels = low.shape
    X_rep = np.repeat(X, n_levels, axis=0)
    target = np.tile(levels, n_rows)
    low, high = low.ravel(), high.ravel()
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        cdf = np.mean([model.predict_cdf(X_rep, middle) for model in models], axis=0)
        below = cdf < target
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    return (0.5 * (low + high)).reshape(n_rows, n_levels)


def uci_split(X, y, train, test, split):
    from harness.scoring import LEVELS, MIDPOINTS, score_quantiles
    from sklearn.base import clone
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    from skquantile import (
        CalibratedQuantileRegressor,
        IncrementalQuantileRegressor,
        metrics,
    )
    from skquantile._conformal import _like_final_fit

    scaler = StandardScaler().fit(X[train])
    X_train, y_train = scaler.transform(X[train]), y[train]
    X_test, y_test = scaler.transform(X[test]), y[test]
    estimator = IncrementalQuantileRegressor(random_state=split)
    started = time.perf_counter()
    final = clone(estimator).fit(X_train, y_train)
    final_seconds = time.perf_counter() - started
    template = _like_final_fit(estimator, final)
    folds, scores = [], []
    started = time.perf_counter()
    for fold_train, fold_test in KFold(FOLDS).split(X_train):
        model = clone(template).fit(X_train[fold_train], y_train[fold_train])
        calibrated = CalibratedQuantileRegressor(model, cv="prefit").fit(
            X_train[fold_test], y_train[fold_test]
        )
        folds.append(calibrated)
        scores.append(calibrated.calibration_scores_)
    fold_seconds = time.perf_counter() - started
    # What cv=FOLDS builds from these scores (without fitting the folds again).
    scores = np.concatenate(scores)
    crossfit = CalibratedQuantileRegressor(final, cv=FOLDS)._restore(
        final,
        {
            "cv_": FOLDS,
            "calibration_scores_": scores,
            "calibration_weights_": np.ones(len(scores)),
            "n_features_in_": final.n_features_in_,
            "n_outputs_": 1,
        },
    )

    def quantile_average(levels):
        return np.mean([fold.predict_quantile(X_test, levels) for fold in folds], 0)

    predictions = {
        "raw": lambda levels: final.predict_quantile(X_test, levels),
        "crossfit": lambda levels: crossfit.predict_quantile(X_test, levels),
        "quantile_average": quantile_average,
        "mixture": lambda levels: _mixture_quantiles(folds, X_test, levels),
    }
    record = {
        "n_test": len(test),
        "final_seconds": final_seconds,
        "fold_seconds": fold_seconds,
        "n_members": int(final.n_members_),
    }
    for way, predict in predictions.items():
        started = time.perf_counter()
        result = score_quantiles(y_test, predict(LEVELS), predict(MIDPOINTS))
        result["predict_seconds"] = time.perf_counter() - started
        for key, value in result.items():
            record[f"{way}_{key}"] = float(value)
    record["crossfit_interval90"] = float(
        metrics.interval_coverage(y_test, crossfit.predict_interval(X_test, 0.9))
    )
    return record


def run(cache, folder, datasets, splits):
    import torch

    torch.set_num_threads(1)
    # A fold of a small set certifies fewer levels than the 99 scored.
    warnings.filterwarnings("ignore", message="With .* calibration rows")
    for dataset, X, y, split, train, test in _data.uci_splits(folder, datasets, splits):
        key = ResultCache.key("fold_models_pilot", VERSION, dataset, split)
        if cache.get(key) is not None:
            continue
        started = time.perf_counter()
        record = uci_split(X, y, train, test, split)
        record.update(key=key, dataset=dataset, split=split)
        cache.put(record)
        print(
            f"{dataset} split {split}: {time.perf_counter() - started:.0f} s "
            + ", ".join(
                f"{way} cov90 {record[f'{way}_coverage90']:.3f} "
                f"cal {record[f'{way}_calibration']:.3f} "
                f"crps {record[f'{way}_crps99']:.4g}"
                for way in WAYS
            ),
            flush=True,
        )


def report(cache):
    from harness.report import calibration_noise_floor, mean_se_cell

    records = [r for r in cache.records() if r["key"].startswith("fold_models_pilot|")]
    machines = ", ".join(sorted({r.get("machine", "?") for r in records}))
    lines = [
        "# Pilot: predicting with the cross-fitted fold models",
        "",
        "`python benchmarks/studies/fold_models_pilot.py run|report` (see its "
        "docstring). `IncrementalQuantileRegressor` defaults, StandardScaler on "
        "X, one thread. Ways: `raw` the final fit; `crossfit` the final fit "
        "recalibrated on the five fold models' out-of-fold scores (`cv=5`); "
        "`quantile_average` the mean quantile function of the five fold models, "
        "each recalibrated on its own held-out fold; `mixture` their mean "
        "distribution function. Means ± standard error over splits; CRPS "
        "change is the mean of per-split ratios to `raw`. Targets of issue 28: "
        "coverage in [0.895, 0.925], calibration error at most the noise floor "
        f"+ 0.005, CRPS at most 1% above raw. Measured on: {machines}.",
        "",
        "| set | splits | noise floor | way | cov90 | calibration | CRPS99 | "
        "CRPS change | fit s | predict s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset in _data.UCI_SETS:
        recs = [r for r in records if r["dataset"] == dataset]
        if not recs:
            continue
        floor = calibration_noise_floor(int(np.median([r["n_test"] for r in recs])))
        for way in WAYS:
            ratio = np.array([r[f"{way}_crps99"] / r["raw_crps99"] for r in recs])
            # The final fit for raw, the folds' fits for the fold models,
            # both for cross-fitting.
            parts = {
                "raw": ("final_seconds",),
                "crossfit": ("final_seconds", "fold_seconds"),
            }.get(way, ("fold_seconds",))
            seconds = np.median([sum(r[part] for part in parts) for r in recs])
            lines.append(
                f"| {dataset} | {len(recs)} | {floor:.4f} | {way} | "
                f"{mean_se_cell([r[f'{way}_coverage90'] for r in recs])} | "
                f"{mean_se_cell([r[f'{way}_calibration'] for r in recs])} | "
                f"{np.mean([r[f'{way}_crps99'] for r in recs]):.4g} | "
                f"{100 * (ratio.mean() - 1):+.2f}% | {seconds:.1f} | "
                f"{np.median([r[f'{way}_predict_seconds'] for r in recs]):.2f} |"
            )
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"Wrote {REPORT}")


def main():
    run_study(study_arguments(__doc__, "yacht"), CACHE, report, run)


if __name__ == "__main__":
    main()
