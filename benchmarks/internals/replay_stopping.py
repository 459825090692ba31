"""Replay early-stopping rules of IncrementalQuantileRegressor on UCI splits.

The training trajectory does not depend on the patience until training
stops, so one fit that runs the whole epoch budget (``n_iter_no_change``
larger than it) shows what any patience would have done: this script keeps
the weights of every epoch and every member's held-out loss, then, for each
rule, finds the epoch at which training would have stopped and the best
epoch each member would have kept, puts those weights back and scores the
test rows with the benchmarks' scoring module. The rule of the current
default reproduces the fit at the defaults (same epochs, same weights).

    python benchmarks/internals/replay_stopping.py naval 1 6 8 18
    python benchmarks/internals/replay_stopping.py kin8nm 0 1 2 --floors 20 40

Rules: ``floor F``: ``n_iter_no_change="auto"`` with at least ``F`` epochs
(800 optimiser steps otherwise); ``patience xK``: ``K`` times the default's
patience; ``whole budget``: no early stop (the best epochs of the whole
schedule). One thread; each fit runs the whole budget, so it costs up to
several times a default fit.
"""

import argparse
import copy
import math
import os
import sys
import time

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402


def _select(losses, tol, patience):
    """Each member's best epoch (0-based) and the epochs run with ``patience``.

    The rule of :class:`skquantile._training.MemberEarlyStopping` (and of
    skorch's early stopping for one network): an epoch improves a member
    if its loss is below that member's best by more than ``tol``; training
    stops once no member has improved for ``patience`` epochs.
    """
    n_epochs, n_members = losses.shape
    best = np.full(n_members, np.inf)
    best_epochs = np.zeros(n_members, dtype=int)
    misses = np.zeros(n_members, dtype=int)
    for epoch in range(n_epochs):
        improved = losses[epoch] < best - tol
        best[improved] = losses[epoch][improved]
        best_epochs[improved] = epoch
        misses = np.where(improved, 0, misses + 1)
        if misses.min() >= patience:
            return best_epochs, epoch + 1
    return best_epochs, n_epochs


def _fit_whole_budget(X, y, seed):
    """A fit that runs every epoch, the weights after each epoch, and the
    patience that ``n_iter_no_change="auto"`` would use, before its floor
    (its optimiser steps in epochs of the fit's training batches)."""
    from skorch.callbacks import Callback

    from skquantile import IncrementalQuantileRegressor, _training

    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            snapshots.append(
                {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
            )

    make_network = _training.make_network

    def with_snapshots(*args, **kwargs):
        net, stopper = make_network(*args, **kwargs)
        net.callbacks = [*net.callbacks, ("replay_snapshot", Snapshot())]
        return net, stopper

    _training.make_network = with_snapshots
    try:
        start = time.perf_counter()
        model = IncrementalQuantileRegressor(
            random_state=seed, n_iter_no_change=10**9
        ).fit(X, y)
        seconds = time.perf_counter() - start
    finally:
        _training.make_network = make_network
    history = model.net_.history
    batches = sum("train_loss" in batch for batch in history[0, "batches"])
    steps = math.ceil(model._auto_defaults().patience_steps / batches)
    if model.n_members_ > 1:
        losses = np.array([row["valid_member_losses"] for row in history])
    else:
        losses = np.array([[row["valid_loss"]] for row in history])
    return model, snapshots, losses, steps, seconds


def _score_at(model, snapshots, best_epochs, X_test, y_test):
    from harness.scoring import LEVELS, MIDPOINTS, score_quantiles

    state = copy.deepcopy(snapshots[-1])
    for key in state:
        if model.n_members_ > 1:
            for member, epoch in enumerate(best_epochs):
                state[key][member] = snapshots[epoch][key][member]
        else:
            state[key] = snapshots[best_epochs[0]][key]
    model.net_.module_.load_state_dict(state)
    return score_quantiles(
        y_test,
        model.predict_quantile(X_test, LEVELS),
        model.predict_quantile(X_test, MIDPOINTS),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _data.add_split_arguments(parser, "naval")
    parser.add_argument(
        "--floors", default="20,40", help="comma-separated patience floors (epochs)"
    )
    parser.add_argument(
        "--multiples", default="2", help="comma-separated patience multiples"
    )
    args = parser.parse_args(argv)
    loaded = _data.load_standard_splits(args)
    if loaded is None:
        return 1
    X, y, splits = loaded
    from sklearn.preprocessing import StandardScaler

    floors = [int(f) for f in args.floors.split(",") if f]
    multiples = [int(k) for k in args.multiples.split(",") if k]
    print(
        "| split | members | rule | patience | epochs run | CRPS99 | "
        "calibration | cov90 |\n|---|---|---|---|---|---|---|---|"
    )
    seconds_per_split = []
    for split in args.splits:
        train, test = splits[split]
        scaler = StandardScaler().fit(X[train])
        X_test = scaler.transform(X[test])
        model, snapshots, losses, steps, seconds = _fit_whole_budget(
            scaler.transform(X[train]), y[train], split
        )
        default = max(model._auto_defaults().patience_epochs, steps)
        rules = {f"floor {f}": max(f, steps) for f in floors}
        rules.update({f"patience x{k}": k * default for k in multiples})
        rules["whole budget"] = len(losses) + 1
        for name, patience in rules.items():
            best_epochs, ran = _select(losses, model.tol, patience)
            record = _score_at(model, snapshots, best_epochs, X_test, y_test=y[test])
            label = name + (" (default)" if patience == default else "")
            print(
                f"| {split} | {model.n_members_} | {label} | {patience} | "
                f"{ran} of {len(losses)} | {record['crps99']:.5g} | "
                f"{record['calibration']:.3f} | {record['coverage90']:.3f} |",
                flush=True,
            )
        seconds_per_split.append(f"split {split} {seconds:.0f} s")
    print("\nWhole-budget fits: " + ", ".join(seconds_per_split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
