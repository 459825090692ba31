"""Acceptance figures of ConvexQuantileRegressor (MQF2) on the package generators.

Everything runs with default parameters (after a ``StandardScaler``, as a user
would in a pipeline) and the same thread count for every model. Each figure is
the median over the seeds; the per-seed values are printed as well.

1. Correlated horizons (``make_correlated_horizons``: 6 targets, AR(1)
   correlation 0.9, 3000 training and 1000 test rows, 100 draws per test
   row): energy score, variogram score (order 0.5) and the mean absolute
   difference between the correlation matrix of the draws (averaged over
   rows) and the true one, for the convex model, for
   ``IncrementalQuantileRegressor`` on the same 6 targets (independent
   marginals from a shared network) and for the truth. Fit seconds of both.
2. Central regions on ``make_two_targets`` (3000 training, 4000 test rows):
   the share of test observations inside the 0.5 and 0.9 regions, for the
   model and for the true regions.
3. One target: mean pinball loss over the 19 levels 0.05, ..., 0.95 of both
   estimators on the three univariate generators (3000 training and 3000
   test rows), and the ratio convex / incremental.

Run::

    python benchmarks/studies/convex_acceptance.py --seeds 0 1 2 --threads 1

The Markdown report is printed and written to
``benchmarks/results/convex_acceptance.md``.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

LEVELS = np.linspace(0.05, 0.95, 19)


def _pin_threads(threads):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def _fit(estimator, X, y):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()
    model = make_pipeline(StandardScaler(), estimator).fit(X, y)
    return model, time.perf_counter() - start


def _mean_correlation(draws):
    """Correlation matrix of the draws of each row, averaged over rows."""
    centred = draws - draws.mean(axis=1, keepdims=True)
    covariance = np.einsum("nsi,nsj->nij", centred, centred)
    scale = np.sqrt(np.einsum("nii->ni", covariance))
    return (covariance / scale[:, :, None] / scale[:, None, :]).mean(axis=0)


def _horizons(seed, params, n_draws=100):
    from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor
    from skquantile.datasets import make_correlated_horizons
    from skquantile.metrics import energy_score, variogram_score

    X, Y, truth = make_correlated_horizons(3000, random_state=seed)
    X_test, Y_test, _ = make_correlated_horizons(1000, random_state=1000 + seed)
    true_correlation = truth.correlation_
    results = {}
    models = {
        "convex": ConvexQuantileRegressor(random_state=seed, **params),
        "independent": IncrementalQuantileRegressor(random_state=seed),
    }
    for name, estimator in models.items():
        model, seconds = _fit(estimator, X, Y)
        scaler, fitted = model[0], model[-1]
        draws = fitted.sample(scaler.transform(X_test), n_draws, random_state=seed)
        results[name] = (draws, seconds)
    results["truth"] = (truth.sample(X_test, n_draws, random_state=seed), np.nan)
    return {
        name: {
            "energy": energy_score(Y_test, draws),
            "variogram": variogram_score(Y_test, draws),
            "correlation_error": float(
                np.abs(_mean_correlation(draws) - true_correlation).mean()
            ),
            "fit_seconds": seconds,
        }
        for name, (draws, seconds) in results.items()
    }


def _regions(seed, params):
    from skquantile import ConvexQuantileRegressor
    from skquantile.datasets import make_two_targets

    X, Y, truth = make_two_targets(3000, random_state=seed)
    X_test, Y_test, _ = make_two_targets(4000, random_state=1000 + seed)
    model, _ = _fit(ConvexQuantileRegressor(random_state=seed, **params), X, Y)
    scaler, fitted = model[0], model[-1]
    features = scaler.transform(X_test)
    return {
        f"{who} {coverage}": float(
            contains(features if who == "model" else X_test, Y_test, coverage).mean()
        )
        for coverage in (0.5, 0.9)
        for who, contains in (
            ("model", fitted.region_contains),
            ("truth", truth.region_contains),
        )
    }


def _univariate(seed, params):
    from skquantile import ConvexQuantileRegressor, IncrementalQuantileRegressor
    from skquantile.datasets import (
        make_heavy_tailed,
        make_heteroscedastic,
        make_three_peaks,
    )
    from skquantile.metrics import mean_pinball_loss

    results = {}
    generators = {
        "heteroscedastic": make_heteroscedastic,
        "three peaks": make_three_peaks,
        "heavy tailed": make_heavy_tailed,
    }
    for data, make in generators.items():
        X, y, _ = make(3000, random_state=seed)
        X_test, y_test, _ = make(3000, random_state=1000 + seed)
        for name, estimator in (
            ("convex", ConvexQuantileRegressor(random_state=seed, **params)),
            ("incremental", IncrementalQuantileRegressor(random_state=seed)),
        ):
            model, seconds = _fit(estimator, X, y)
            quantiles = model[-1].predict_quantile(model[0].transform(X_test), LEVELS)
            results[f"{data} / {name}"] = mean_pinball_loss(y_test, quantiles, LEVELS)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--params",
        default="{}",
        help="JSON dict of ConvexQuantileRegressor parameters (default: none, "
        "i.e. the defaults); a report with parameters is labelled as tuned.",
    )
    parser.add_argument(
        "--output",
        default=Path(__file__).parent.parent / "results" / "convex_acceptance.md",
    )
    args = parser.parse_args()
    _pin_threads(args.threads)
    params = json.loads(args.params)

    horizons, regions, univariate = [], [], []
    for seed in args.seeds:
        horizons.append(_horizons(seed, params))
        print("horizons", seed, horizons[-1], flush=True)
        regions.append(_regions(seed, params))
        print("regions", seed, regions[-1], flush=True)
        univariate.append(_univariate(seed, params))
        print("univariate", seed, univariate[-1], flush=True)

    def median(records, *keys):
        values = []
        for record in records:
            for key in keys:
                record = record[key]
            values.append(record)
        return float(np.median(values))

    label = "default parameters" if not params else f"parameters {params}"
    lines = [
        f"# ConvexQuantileRegressor acceptance ({label})\n",
        f"Medians over seeds {args.seeds}; {args.threads} thread(s) per model; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        "every model after a StandardScaler.\n",
        "## Correlated horizons (d = 6, AR(1) 0.9, 3000 / 1000 rows, 100 draws)\n",
        "| model | energy score | variogram score | correlation error | fit seconds |",
        "|---|---|---|---|---|",
    ]
    for name in ("convex", "independent", "truth"):
        seconds = median(horizons, name, "fit_seconds")
        lines.append(
            f"| {name} | {median(horizons, name, 'energy'):.4f} "
            f"| {median(horizons, name, 'variogram'):.4f} "
            f"| {median(horizons, name, 'correlation_error'):.3f} "
            f"| {'-' if np.isnan(seconds) else f'{seconds:.1f}'} |"
        )
    lines += [
        "",
        "## Central regions on make_two_targets (3000 / 4000 rows)\n",
        "| coverage | model region | true region |",
        "|---|---|---|",
    ]
    for coverage in (0.5, 0.9):
        lines.append(
            f"| {coverage} | {median(regions, f'model {coverage}'):.4f} "
            f"| {median(regions, f'truth {coverage}'):.4f} |"
        )
    lines += [
        "",
        "## One target: mean pinball loss over 19 levels (3000 / 3000 rows)\n",
        "| data | convex | incremental | ratio |",
        "|---|---|---|---|",
    ]
    for data in ("heteroscedastic", "three peaks", "heavy tailed"):
        convex = median(univariate, f"{data} / convex")
        incremental = median(univariate, f"{data} / incremental")
        lines.append(
            f"| {data} | {convex:.4f} | {incremental:.4f} "
            f"| {convex / incremental:.3f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)


if __name__ == "__main__":
    main()
