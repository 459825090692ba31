"""Quality bar of IncrementalQuantileRegressor on the package's generators.

For each generator of :mod:`skquantile.datasets` (3000 training and 3000 test
rows, several seeds) this compares, with the same number of threads for
every model:

- ``IncrementalQuantileRegressor`` with default parameters after a
  ``StandardScaler``;
- a quantile regression forest (``quantile-forest``, 200 trees,
  ``min_samples_leaf=5``);
- LightGBM fitted once per level (19 models of 200 trees each);
- the true conditional quantiles (the oracle).

Scores: mean pinball loss over the 19 levels 0.05, ..., 0.95, mean
calibration error over the same levels, quantile crossing rate, and fit time.
Every score is the median over seeds. Run::

    python benchmarks/studies/quality_bar.py --seeds 0 1 2 --threads 1

and the Markdown table is printed and written to
``benchmarks/results/quality_bar.md``.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np


def _pin_threads(threads):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def _models(threads, seed):
    import lightgbm
    from quantile_forest import RandomForestQuantileRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquantile import IncrementalQuantileRegressor

    class PerLevelLightGBM:
        """One LightGBM quantile model per level."""

        def fit(self, X, y):
            self.models_ = [
                lightgbm.LGBMRegressor(
                    objective="quantile",
                    alpha=level,
                    n_estimators=200,
                    n_jobs=threads,
                    random_state=seed,
                    verbose=-1,
                ).fit(X, y)
                for level in LEVELS
            ]
            return self

        def quantiles(self, X):
            return np.column_stack([model.predict(X) for model in self.models_])

    class Forest:
        def fit(self, X, y):
            self.model_ = RandomForestQuantileRegressor(
                n_estimators=200, min_samples_leaf=5, n_jobs=threads, random_state=seed
            ).fit(X, y)
            return self

        def quantiles(self, X):
            return self.model_.predict(X, quantiles=list(LEVELS))

    class Incremental:
        def fit(self, X, y):
            self.model_ = make_pipeline(
                StandardScaler(), IncrementalQuantileRegressor(random_state=seed)
            ).fit(X, y)
            return self

        def quantiles(self, X):
            scaler, model = self.model_
            return model.predict_quantile(scaler.transform(X), LEVELS)

    return {
        "IncrementalQuantileRegressor": Incremental(),
        "quantile forest (200 trees)": Forest(),
        "LightGBM x 19 levels (200 trees)": PerLevelLightGBM(),
    }


LEVELS = np.linspace(0.05, 0.95, 19)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=3000)
    parser.add_argument(
        "--output", default=Path(__file__).parent.parent / "results" / "quality_bar.md"
    )
    args = parser.parse_args()
    _pin_threads(args.threads)

    from skquantile import datasets, metrics

    generators = {
        "heteroscedastic": datasets.make_heteroscedastic,
        "three peaks": datasets.make_three_peaks,
        "heavy tailed": datasets.make_heavy_tailed,
    }
    # Warm-up: the first fit of each library in a process pays one-off costs
    # (lazy imports, allocator and thread pool start-up) that are not fitting.
    X, y, _ = datasets.make_heteroscedastic(300, random_state=99)
    for model in _models(args.threads, 0).values():
        model.fit(X, y)

    rows = []
    for name, make in generators.items():
        scores = {}
        for seed in args.seeds:
            X, y, truth = make(args.n_train, random_state=seed)
            X_test, y_test, _ = make(args.n_test, random_state=1000 + seed)
            predictions = {}
            for model_name, model in _models(args.threads, seed).items():
                start = time.perf_counter()
                model.fit(X, y)
                elapsed = time.perf_counter() - start
                predictions[model_name] = (model.quantiles(X_test), elapsed)
            predictions["oracle (true quantiles)"] = (
                truth.predict_quantile(X_test, LEVELS),
                np.nan,
            )
            for model_name, (quantiles, elapsed) in predictions.items():
                scores.setdefault(model_name, []).append(
                    (
                        metrics.mean_pinball_loss(y_test, quantiles, LEVELS),
                        metrics.calibration_error(y_test, quantiles, LEVELS),
                        metrics.quantile_crossing_rate(quantiles, LEVELS),
                        elapsed,
                    )
                )
        for model_name, values in scores.items():
            pinball, calibration, crossing, seconds = np.median(values, axis=0)
            rows.append((name, model_name, pinball, calibration, crossing, seconds))
            print(rows[-1], flush=True)

    header = (
        f"Quality bar: {args.n_train} training / {args.n_test} test rows, "
        f"medians over seeds {args.seeds}, {args.threads} thread(s) per model, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores.\n\n"
        "| data | model | mean pinball (19 levels) | calibration error "
        "| crossing rate | fit seconds |\n|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {data} | {model} | {pinball:.4f} | {calibration:.4f} | {crossing:.3f} "
        f"| {'-' if np.isnan(seconds) else f'{seconds:.2f}'} |"
        for data, model, pinball, calibration, crossing, seconds in rows
    ]
    table = header + "\n".join(lines) + "\n"
    print(table)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table)


if __name__ == "__main__":
    main()
