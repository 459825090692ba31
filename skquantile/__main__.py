"""Demo: ``python -m skquantile`` fits one model and queries it at many levels."""

import argparse
import time

import numpy as np

from . import IncrementalQuantileRegressor, metrics
from .datasets import make_heteroscedastic


def main(argv=None):
    """Fit on the bundled heteroscedastic generator and report on held-out rows."""
    parser = argparse.ArgumentParser(
        prog="python -m skquantile",
        description=(
            "Fit an IncrementalQuantileRegressor on synthetic data with a known "
            "conditional quantile function, then query it at several levels."
        ),
    )
    parser.add_argument(
        "--n-samples", type=int, default=3000, help="training rows (default 3000)"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed of data and model"
    )
    args = parser.parse_args(argv)
    if args.n_samples < 2:
        parser.error("--n-samples must be at least 2")

    X, y, truth = make_heteroscedastic(args.n_samples, random_state=args.random_state)
    X_test, y_test, _ = make_heteroscedastic(3000, random_state=args.random_state + 1)
    start = time.perf_counter()
    model = IncrementalQuantileRegressor(random_state=args.random_state).fit(X, y)
    print(
        f"Fitted {model!r} on {len(X)} rows in {time.perf_counter() - start:.2f} s "
        f"({model.n_iter_} epochs)."
    )

    levels = np.array([0.80, 0.90, 0.94, 0.95, 0.99])
    rows = X_test[:3]
    predicted = model.predict_quantile(rows, levels)
    true = truth.predict_quantile(rows, levels)
    print("\nHow much stock covers each service level? (3 held-out rows)")
    print("row  " + "  ".join(f"{level:>14.0%}" for level in levels))
    for row in range(len(rows)):
        cells = [
            f"{p:6.3f} ({t:6.3f})"
            for p, t in zip(predicted[row], true[row], strict=True)
        ]
        print(f"{row:>3}  " + "  ".join(cells))
    print("       model (truth); going from 94% to 95% costs", end=" ")
    print(", ".join(f"{step:.3f}" for step in predicted[:, 3] - predicted[:, 2]))

    grid = np.linspace(0.05, 0.95, 19)
    quantiles = model.predict_quantile(X_test, grid)
    interval = model.predict_interval(X_test, coverage=0.9)
    crps_grid = metrics.midpoint_levels(99)
    print(f"\nOn {len(X_test)} held-out rows:")
    report = {
        "mean pinball loss (19 levels)": metrics.mean_pinball_loss(
            y_test, quantiles, grid
        ),
        "  same for the true quantiles": metrics.mean_pinball_loss(
            y_test, truth.predict_quantile(X_test, grid), grid
        ),
        "CRPS (99 levels)": metrics.crps_from_quantiles(
            y_test, model.predict_quantile(X_test, crps_grid), crps_grid
        ),
        "calibration error": metrics.calibration_error(y_test, quantiles, grid),
        "90% interval coverage": metrics.interval_coverage(y_test, interval),
        "quantile crossing rate": metrics.quantile_crossing_rate(quantiles),
    }
    for name, value in report.items():
        print(f"  {name:<32} {value:.4f}")


if __name__ == "__main__":
    main()
