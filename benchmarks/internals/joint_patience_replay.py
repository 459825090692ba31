"""Replay smaller patience growths of the convex estimator on its own fits.

For several targets ``n_iter_no_change="auto"`` lets each member of
:class:`~skquantile.ConvexQuantileRegressor` wait, after its best epoch,
``growth`` times that epoch (2), within a least and a most wait (800 and
2400 optimiser steps); training stops when every member has waited. The
trajectory does not depend on the wait until training stops, so one
default fit's record of every member's held-out loss per epoch shows what a
smaller growth would have done: the epoch at which it stops, and whether
some member would have kept an earlier, worse best epoch (the fit changes)
or not (the same model, sooner). Printed per split and growth: epochs run,
whether the model changes, and by how much the members' mean best held-out
loss rises where it does (the test scores of changed fits need refits).

    python benchmarks/internals/joint_patience_replay.py jura 0-9
    python benchmarks/internals/joint_patience_replay.py enb 0-4 --rules 1.5:800,1:400

A rule ``G:S`` is a growth ``G`` with a least wait of ``S`` optimiser steps
(the default is ``2:800``).

StandardScaler on X, ``random_state`` = split, one thread; each split costs
one default fit.
"""

import argparse
import os
import sys
import time

import numpy as np

# The suite's harness modules live in benchmarks/, one folder up.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import data as _data  # noqa: E402
from harness.common import data_dir, split_range  # noqa: E402


def replay(losses, tol, patience, growth, max_patience):
    """Epochs run and each member's best epoch (1-based) under the rule of
    :class:`skquantile._training.MemberEarlyStopping` with ``growth``."""
    from skquantile._training import grown_patience

    n_epochs, n_members = losses.shape
    best = np.full(n_members, np.inf)
    best_epochs = np.zeros(n_members, dtype=int)
    misses = np.zeros(n_members, dtype=int)
    for epoch in range(1, n_epochs + 1):
        improved = losses[epoch - 1] < best - tol
        best[improved] = losses[epoch - 1][improved]
        best_epochs[improved] = epoch
        misses = np.where(improved, 0, misses + 1)
        waits = [
            grown_patience(patience, best_epoch, growth, max_patience)
            for best_epoch in best_epochs
        ]
        if (misses >= waits).all():
            return epoch, best_epochs, best
    return n_epochs, best_epochs, best


def _stopping(model):
    """The fitted early-stopping callback of ``model``."""
    for _, callback in model.net_.callbacks_:
        if hasattr(callback, "member_misses_"):
            return callback
    raise RuntimeError("the fit has no per-member early stopping")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("splits", help="first-last or one split, e.g. 0-4")
    parser.add_argument("--rules", default="1.5:800,1.5:400,1.25:400,1:400,1:200")
    parser.add_argument("--data", default=None, help="data folder")
    args = parser.parse_args()
    import torch
    from sklearn.preprocessing import StandardScaler

    from skquantile import ConvexQuantileRegressor
    from skquantile._plan import AUTO_PATIENCE_STEPS, resolve_patience

    torch.set_num_threads(1)
    rules = [
        tuple(float(part) for part in rule.split(":")) for rule in args.rules.split(",")
    ]
    splits = split_range(args.splits)
    for split, load in _data.joint_splits(data_dir(args.data), args.dataset, splits):
        X_train, Y_train, _, _ = load()
        model = ConvexQuantileRegressor(random_state=split)
        started = time.perf_counter()
        model.fit(StandardScaler().fit_transform(X_train), Y_train)
        seconds = time.perf_counter() - started
        stopping = _stopping(model)
        losses = np.array([e["valid_member_losses"] for e in model.net_.history])
        rule = (stopping.threshold, stopping.patience)
        n_rows, batch = len(np.unique(X_train, axis=0)), model.batch_size_

        def least_wait(steps, n_rows=n_rows, batch=batch):
            return resolve_patience("auto", n_rows, batch, int(steps))

        # The default's least wait, recomputed from the rows and the batch.
        assert least_wait(AUTO_PATIENCE_STEPS) == stopping.patience
        epochs, bests, best = replay(
            losses, *rule, stopping.growth, stopping.max_patience
        )
        assert epochs == len(losses), (epochs, len(losses))
        line = (
            f"{args.dataset} split {split}: {epochs} epochs in {seconds:.1f} s, "
            f"members' best epochs {bests.tolist()}, least wait {rule[1]}, "
            f"growth {stopping.growth:g}"
        )
        for growth, steps in rules:
            run, kept, kept_best = replay(
                losses, rule[0], least_wait(steps), growth, stopping.max_patience
            )
            changed = not np.array_equal(kept, bests)
            rise = kept_best.mean() / best.mean() - 1.0
            line += f" | {growth:g}:{steps:g} {run} epochs ({run / epochs:.2f})" + (
                f", changed, loss +{100 * rise:.2f}%" if changed else ", same"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
