"""Training overhead of IncrementalQuantileRegressor over a bare torch loop.

The estimator's ``fit`` validates the data, merges duplicate rows,
standardises features and target, and trains its module with skorch
(history, early-stopping bookkeeping with a copy of the best weights, a
cosine learning-rate schedule, a check of every batch loss). This script
times that ``fit`` at default parameters, except ``early_stopping=False``
(the bare loop has no validation pass, so neither has the estimator),
against a plain torch loop that
trains *the same module* (built by the estimator's own ``_module_spec``
with the same criterion) with the same batch iterator
(``skquantile._training.TensorBatchIterator``), batch size, AdamW settings,
cosine schedule and number of epochs (the epochs the estimator actually
ran), on the same standardised data. The bare loop standardises the data
itself, inside its timing.

Overhead = median estimator time / median bare-loop time - 1, over
interleaved repeats. Run alone with::

    python benchmarks/overhead.py --threads 1 --sizes 10000 100000

or as part of ``benchmarks/run.py`` (``--only overhead``).
"""

import argparse
import sys
import time
from types import SimpleNamespace

_COLUMNS = (
    "| rows | epochs | estimator fit (s) | bare torch loop (s) | estimator per "
    "epoch (s) | bare per epoch (s) | overhead |\n|---|---|---|---|---|---|---|\n"
)


def bare_loop(X, y, estimator, epochs, seed):
    """Train the module of a fitted ``estimator`` with a plain torch loop, at
    its batch size and learning-rate schedule; returns the module."""
    import numpy as np
    import torch

    from skquantile._training import TensorBatchIterator

    features = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    target = np.column_stack([(y - y.mean()) / y.std(), np.ones(len(y))])
    target = target.astype(np.float32)
    module_class, module_params = estimator._module_spec(X.shape[1], 1)
    module_params["hidden_layer_sizes"] = tuple(estimator.hidden_layer_sizes)
    module_params["activation"] = estimator.activation
    criterion_class, criterion_params = estimator._criterion()

    torch.manual_seed(seed)
    module = module_class(**module_params)
    criterion = criterion_class(**criterion_params)
    optimizer = torch.optim.AdamW(
        module.parameters(),
        lr=estimator.learning_rate_init,
        weight_decay=estimator.weight_decay,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=estimator.max_epochs_
    )
    data = SimpleNamespace(X=torch.as_tensor(features), y=torch.as_tensor(target))
    batches = TensorBatchIterator(data, estimator.batch_size_, shuffle=True)
    module.train()
    for _ in range(epochs):
        for X_batch, target_batch in batches:
            optimizer.zero_grad()
            loss = criterion(module(X_batch), target_batch)
            loss.backward()
            optimizer.step()
        schedule.step()
    return module


def measure(n_rows, repeats, seed=0, max_epochs=None):
    """Median times of the estimator and the bare loop on ``n_rows`` rows
    (``max_epochs`` epochs; ``None``: the estimator's own budget)."""
    import numpy as np

    from skquantile import IncrementalQuantileRegressor
    from skquantile.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_rows, n_features=20, random_state=seed)
    # Warm-up of both paths (lazy initialisation in torch and skorch).
    # The estimator trains without a validation split, so that both paths do
    # the same work: every row, every epoch, no validation pass.
    settings = dict(early_stopping=False, random_state=seed)
    small = slice(0, 300)
    warm = IncrementalQuantileRegressor(max_epochs=2, **settings).fit(
        X[small], y[small]
    )
    bare_loop(X[small], y[small], warm, 2, seed)

    estimator_times, bare_times, epochs = [], [], []
    for _ in range(repeats):
        estimator = IncrementalQuantileRegressor(
            **settings, max_epochs=max_epochs or "auto"
        )
        start = time.perf_counter()
        estimator.fit(X, y)
        estimator_times.append(time.perf_counter() - start)
        epochs.append(estimator.n_iter_)
        start = time.perf_counter()
        bare_loop(X, y, estimator, estimator.n_iter_, seed)
        bare_times.append(time.perf_counter() - start)
    estimator_seconds = float(np.median(estimator_times))
    bare_seconds = float(np.median(bare_times))
    n_epochs = int(np.median(epochs))
    return {
        "n": n_rows,
        "epochs": n_epochs,
        "estimator_seconds": estimator_seconds,
        "bare_seconds": bare_seconds,
        "estimator_times": estimator_times,
        "bare_times": bare_times,
        "overhead": estimator_seconds / bare_seconds - 1.0,
    }


def run_overhead(sizes, repeats, threads, cache_path, max_epochs=None):
    """Measure every size not yet in the cache; returns notes (none).

    ``max_epochs`` caps the epochs of both loops (``None``: the estimator's
    own budget, ``max_epochs="auto"``)."""
    from .common import ResultCache, settings_hash
    from .models import Incremental

    cache = ResultCache(cache_path)
    for n_rows in sizes:
        key = ResultCache.key("overhead", n_rows, threads, repeats)
        if max_epochs is not None:
            key += f"|{max_epochs} epochs"
        key += "|" + settings_hash(Incremental.signature())
        if cache.get(key) is None:
            print(f"  [overhead] {n_rows} rows ...", flush=True)
            record = measure(n_rows, repeats, max_epochs=max_epochs)
            record.update(
                key=key, suite="overhead", threads=threads, model=Incremental.name
            )
            cache.put(record)
            print(f"  [overhead] {n_rows} rows: {record['overhead']:+.1%}", flush=True)
    return []


def markdown(records):
    """The table of overhead records."""
    lines = [
        f"| {r['n']} | {r['epochs']} | {r['estimator_seconds']:.2f} "
        f"| {r['bare_seconds']:.2f} | {r['estimator_seconds'] / r['epochs']:.3f} "
        f"| {r['bare_seconds'] / r['epochs']:.3f} | {r['overhead']:+.1%} |"
        for r in sorted(records, key=lambda r: r["n"])
    ]
    return _COLUMNS + "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="epochs (default: the budget)"
    )
    args = parser.parse_args()

    from .common import pin_threads

    pin_threads(args.threads)
    records = [measure(n, args.repeats, max_epochs=args.max_epochs) for n in args.sizes]
    print(markdown(records))


if __name__ == "__main__":
    sys.exit(main())
