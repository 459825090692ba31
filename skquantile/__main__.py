"""Command line: ``python -m skquantile`` runs a demo on a bundled generator, or
fits a CSV file and writes its quantiles (``--csv``)."""

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import ConvexQuantileRegressor, IncrementalQuantileRegressor, metrics
from .datasets import make_heteroscedastic

#: Rows of the demo's training data, and the CSV mode's default levels.
DEMO_ROWS = 3000
DEFAULT_LEVELS = (0.05, 0.5, 0.95)

ESTIMATORS = {
    "incremental": IncrementalQuantileRegressor,
    "convex": ConvexQuantileRegressor,
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser():
    parser = _Parser(
        prog="python -m skquantile",
        description=(
            "Without --csv: fit an IncrementalQuantileRegressor on synthetic data "
            "with a known conditional quantile function, then query it at several "
            "levels (a demo). With --csv: fit a model on a CSV file (a header row; "
            "a feature column with text is categorical; an empty feature cell is "
            "a missing value) and print "
            "or save the predicted quantiles of each row at the chosen levels."
        ),
        epilog=(
            "example: python -m skquantile --csv sales.csv --target demand "
            "--levels 0.5 0.9 0.95 --output quantiles.csv"
        ),
    )
    demo = parser.add_argument_group("demo")
    demo.add_argument(
        "--n-samples", type=int, default=None, help="training rows (default 3000)"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed of data and model (default 0)"
    )
    data = parser.add_argument_group("fitting a CSV file")
    data.add_argument("--csv", type=Path, help="CSV file to fit, with a header row")
    data.add_argument(
        "--target",
        nargs="+",
        help="target column(s); several make a multi-output model",
    )
    data.add_argument(
        "--features",
        nargs="+",
        help="feature columns (default: every column that is not a target)",
    )
    data.add_argument(
        "--categorical",
        nargs="+",
        help="feature columns to treat as categories even if they hold numbers "
        "(default: the columns with a cell that is not a number)",
    )
    data.add_argument(
        "--levels",
        type=float,
        nargs="+",
        help="quantile levels in (0, 1) (default 0.05 0.5 0.95)",
    )
    data.add_argument(
        "--predict",
        type=Path,
        help="CSV file of rows to predict (default: the training file)",
    )
    data.add_argument(
        "--output", type=Path, help="write the quantiles to this CSV (default: print)"
    )
    data.add_argument(
        "--estimator",
        choices=sorted(ESTIMATORS),
        help="model (default incremental); convex predicts marginal quantiles "
        "for several targets",
    )
    data.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="maximum training epochs (default: the estimator's 'auto', about "
        "8000 optimiser steps)",
    )
    return parser


def _read_table(parser, path):
    """Header and data rows of a CSV file, or exit with a one-line error."""
    if not path.is_file():
        parser.error(f"no such file: {path}")
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"cannot read {path}: {error}")
    if len(rows) < 2:
        parser.error(f"{path} needs a header row and at least one data row")
    return [name.strip() for name in rows[0]], rows[1:]


def _check_columns(parser, path, header, columns):
    """Exit with a one-line error naming the columns that the file lacks."""
    missing = [name for name in columns if name not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            hint = " (the file must be comma-separated)"
        parser.error(
            f"{path} has no column {', '.join(map(repr, missing))}; "
            f"its columns are {', '.join(header)}{hint}"
        )


def _cells(parser, path, columns):
    """The cells of the named columns of a CSV file, one list per column."""
    header, rows = _read_table(parser, path)
    _check_columns(parser, path, header, columns)
    indices = [header.index(name) for name in columns]
    return [[row[i] if i < len(row) else "" for row in rows] for i in indices]


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _numbers(parser, path, name, cells, allow_missing):
    """One column's cells as float64. An empty cell is a missing value: NaN
    with ``allow_missing`` (features, which the estimators fill and flag),
    an error otherwise (targets)."""
    result = np.empty(len(cells))
    for line, cell in enumerate(cells):
        if not cell.strip():
            if allow_missing:
                result[line] = np.nan
                continue
            parser.error(
                f"{path}, line {line + 2}: column {name!r} is missing (an "
                "empty cell); a target needs a value in every row"
            )
        if not _is_number(cell):
            parser.error(
                f"{path}, line {line + 2}: column {name!r} holds {cell!r}, not a number"
            )
        result[line] = float(cell)
    return result


def _columns(parser, path, columns):
    """The named (target) columns of a CSV file as one float64 array, one
    column each; every cell must hold a number."""
    table = _cells(parser, path, columns)
    return np.column_stack(
        [
            _numbers(parser, path, name, cells, allow_missing=False)
            for name, cells in zip(columns, table, strict=True)
        ]
    )


def _features(parser, path, columns, categorical=None, forced=()):
    """The feature columns of a CSV file and the indices of the categorical ones.

    A column is categorical if it is in ``categorical`` or, when that is
    ``None`` (the training file), if it is in ``forced`` or holds a cell that
    is not a number. Its cells stay text (``None`` where empty); the other
    columns are numbers, an empty cell being a missing value (NaN). Without
    categorical columns the result is a float64 array."""
    table = _cells(parser, path, columns)
    if categorical is None:
        categorical = [
            j
            for j, cells in enumerate(table)
            if j in forced
            or any(cell.strip() and not _is_number(cell) for cell in cells)
        ]
    X = np.empty((len(table[0]), len(columns)), dtype=object)
    for j, (name, cells) in enumerate(zip(columns, table, strict=True)):
        if j in categorical:
            X[:, j] = [cell.strip() or None for cell in cells]
        else:
            X[:, j] = _numbers(parser, path, name, cells, allow_missing=True)
    return (X, categorical) if categorical else (X.astype(np.float64), [])


def _repeated(names):
    """The names that occur more than once, sorted."""
    return sorted({name for name in names if names.count(name) > 1})


def _check_names(parser, flag, names):
    """Exit with a one-line error if a column is named twice in ``flag``."""
    repeated = _repeated(names)
    if repeated:
        parser.error(f"{flag} names {', '.join(map(repr, repeated))} more than once")


def _fit_csv(parser, args):
    if not args.target:
        parser.error("--csv needs --target (the column(s) to predict)")
    if args.n_samples is not None:
        parser.error("--n-samples sets the demo's rows; it does not apply with --csv")
    args.levels = args.levels or list(DEFAULT_LEVELS)
    args.estimator = args.estimator or "incremental"
    _check_names(parser, "--target", args.target)
    _check_names(parser, "--features", args.features or [])
    both = [name for name in args.target if name in (args.features or ())]
    if both:
        parser.error(
            f"--features includes the target column(s) {', '.join(map(repr, both))}: "
            "a target cannot be its own feature"
        )
    if not all(0.0 < level < 1.0 for level in args.levels):
        parser.error("--levels must lie strictly between 0 and 1")
    if args.max_epochs is not None and args.max_epochs < 1:
        parser.error("--max-epochs must be at least 1")
    header, _ = _read_table(parser, args.csv)
    repeated = _repeated(header)
    if repeated:
        parser.error(
            f"{args.csv} has several columns named {', '.join(map(repr, repeated))}"
        )
    features = args.features or [name for name in header if name not in args.target]
    _check_columns(parser, args.csv, header, args.target + features)
    if not features:
        parser.error("no feature columns: pass --features or add columns")
    unknown = sorted(set(args.categorical or ()) - set(features))
    if unknown:
        parser.error(f"--categorical names non-feature column(s): {', '.join(unknown)}")
    forced = [j for j, name in enumerate(features) if name in (args.categorical or ())]
    X, categorical = _features(parser, args.csv, features, forced=forced)
    if categorical:
        print(
            "Categorical column(s): "
            + ", ".join(features[j] for j in categorical)
            + ".",
            file=sys.stderr,
        )
    Y = _columns(parser, args.csv, args.target)
    y = Y[:, 0] if Y.shape[1] == 1 else Y
    sizes = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    estimator = ESTIMATORS[args.estimator](
        random_state=args.random_state, categorical_features=categorical, **sizes
    )
    start = time.perf_counter()
    try:
        model = estimator.fit(X, y)
    except (ValueError, FloatingPointError) as error:
        parser.error(f"fitting failed: {error}")
    print(
        f"Fitted {type(model).__name__} on {len(X)} rows of {args.csv} in "
        f"{time.perf_counter() - start:.2f} s.",
        file=sys.stderr,
    )
    X_new = X
    if args.predict is not None:
        X_new, _ = _features(parser, args.predict, features, categorical)
    levels = np.asarray(args.levels)
    quantiles = model.predict_marginal_quantile(X_new, levels)
    quantiles = quantiles.reshape(len(X_new), len(args.target), len(levels))
    names = [f"{target}_q{level:g}" for target in args.target for level in levels]
    table = quantiles.reshape(len(X_new), -1)
    if args.output is None:
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([[f"{value:.6g}" for value in row] for row in table])
        return
    try:
        with args.output.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows([[repr(float(value)) for value in row] for row in table])
    except OSError as error:
        parser.error(f"cannot write {args.output}: {error}")
    print(f"Wrote {len(table)} rows to {args.output}.", file=sys.stderr)


def main(argv=None):
    """Run the demo, or fit a CSV file when ``--csv`` is given."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.csv is not None:
        return _fit_csv(parser, args)
    given = [
        flag
        for flag, value in (
            ("--target", args.target),
            ("--features", args.features),
            ("--categorical", args.categorical),
            ("--levels", args.levels),
            ("--predict", args.predict),
            ("--output", args.output),
            ("--estimator", args.estimator),
            ("--max-epochs", args.max_epochs),
        )
        if value is not None
    ]
    if given:
        parser.error(f"{', '.join(given)} only apply with --csv (a file to fit)")
    if args.n_samples is None:
        args.n_samples = DEMO_ROWS
    if args.n_samples < 2:
        parser.error("--n-samples must be at least 2")

    X, y, truth = make_heteroscedastic(args.n_samples, random_state=args.random_state)
    X_test, y_test, _ = make_heteroscedastic(3000, random_state=args.random_state + 1)
    start = time.perf_counter()
    model = IncrementalQuantileRegressor(random_state=args.random_state).fit(X, y)
    print(
        f"Fitted {model!r} on {len(X)} rows in {time.perf_counter() - start:.2f} s "
        f"({model.n_iter_} epochs, {model.n_members_} networks pooled)."
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


def run(argv=None):
    """:func:`main`, quiet when the reader of its output goes away.

    ``python -m skquantile | head`` closes the pipe after a few lines; the
    rest of the output is dropped, as other command-line tools do, instead
    of ending in a ``BrokenPipeError`` traceback.
    """
    try:
        main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null, so that the flush at exit fails no more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    run()
