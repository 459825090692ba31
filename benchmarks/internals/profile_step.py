"""Where a training step of the default networks spends its time.

Profiles training steps of the two estimators' default networks with
``torch.profiler`` on one thread, and writes the operators that take the
most time to ``results/profile.md``:

- the incremental estimator's default ensemble (five networks of three
  hidden layers of 128, 40 knots) on a batch of 34 rows, as on the yacht
  UCI set (277 training rows, batch ``"auto"``);
- the convex estimator's default for six targets (five networks with the
  context network 3x128, 32 energy draws) on a batch of 256 rows, as for
  3000 rows of ``make_correlated_horizons``.

Each step is a whole ``fit`` iteration as skquantile runs it (forward,
loss, backward, optimiser), through the estimator's own network and loss.

    python benchmarks/internals/profile_step.py
    python benchmarks/internals/profile_step.py --compiled

``--compiled`` instead times the same steps with the forward pass and the
loss under ``torch.compile`` (the default inductor backend, which needs a C
compiler) against eager steps, and prints the time of the first step (the
compilation) and the mean of later steps; nothing is written.
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from skquantile import _training
from skquantile._convex_network import ConvexPotentialNetwork, WeightedEnergyScoreLoss
from skquantile._incremental_network import IncrementalQuantileNetwork, WeightedCRPSLoss

RESULTS = Path(__file__).parent.parent / "results"


def incremental_case(n_members=5, batch=34, n_features=6):
    network = IncrementalQuantileNetwork(
        n_features,
        1,
        (np.arange(40) + 0.5) / 40,
        1,
        (128, 128, 128),
        "gelu",
        n_members=n_members,
    )
    target = torch.cat(
        [torch.randn(batch, 1), torch.ones(batch, 1), torch.ones(batch, n_members)], 1
    )
    return network, WeightedCRPSLoss(), torch.randn(batch, n_features), target


def convex_case(n_members=5, batch=256, n_features=4, n_outputs=6):
    network = ConvexPotentialNetwork(
        n_features, n_outputs, (128, 128, 128), "silu", (32, 32), 32, n_members
    )
    target = torch.cat(
        [
            torch.randn(batch, n_outputs),
            torch.ones(batch, 1),
            torch.ones(batch, n_members),
        ],
        1,
    )
    return network, WeightedEnergyScoreLoss(), torch.randn(batch, n_features), target


def step_function(network, loss, X, target, compiled=False):
    network.train()
    # The package's optimiser; torch's AdamW for a checkout from before it
    # had its own (to profile the earlier code, put it first on PYTHONPATH).
    optimiser_class = getattr(_training, "AdamW", torch.optim.AdamW)
    optimiser = optimiser_class(network.parameters(), lr=1e-3)

    def forward():
        return loss(network(X), target)

    if compiled:
        forward = torch.compile(forward, dynamic=False)

    def step():
        optimiser.zero_grad()
        forward().backward()
        optimiser.step()

    return step


def time_compiled(case, n_steps, batch):
    """Seconds of the first step and mean seconds of later steps, eager and
    under ``torch.compile``, for ``case`` on a batch of ``batch`` rows."""
    times = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        step = step_function(*case(batch=batch), compiled=compiled)
        start = time.perf_counter()
        step()
        first = time.perf_counter() - start
        times["compiled" if compiled else "eager"] = (
            first,
            mean_step_seconds(step, n_steps, warm_up=5),
        )
    return times


def mean_step_seconds(step, n_steps, warm_up):
    """Mean seconds of ``n_steps`` calls of ``step`` after ``warm_up`` calls."""
    for _ in range(warm_up):
        step()
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps


def measure(case, n_steps):
    torch.manual_seed(0)
    step = step_function(*case())
    per_step = mean_step_seconds(step, n_steps, warm_up=10)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(n_steps):
            step()
    table = profiler.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40
    )
    return per_step, table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="profiled steps")
    parser.add_argument(
        "--output", default="profile.md", help="file name in results/ to write"
    )
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="time eager steps against torch.compile instead of profiling",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.compiled:
        for name, case, batch, n_steps in (
            ("incremental", incremental_case, 34, 10 * args.steps),
            ("incremental", incremental_case, 512, args.steps),
            ("convex, 6 targets", convex_case, 256, max(5, args.steps // 2)),
        ):
            for mode, (first, per_step) in time_compiled(case, n_steps, batch).items():
                print(
                    f"{name}, batch {batch}, {mode}: first step {first:.2f} s, "
                    f"then {1000 * per_step:.2f} ms per step"
                )
        return
    lines = [
        "# Profile of a training step (one thread)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, "
        f"skquantile from {Path(_training.__file__).parent}. "
        "Written by `python benchmarks/internals/profile_step.py`.",
        "",
    ]
    cases = {
        "Incremental, 5 networks 3x128, 40 knots, batch 34 (yacht)": (
            incremental_case,
            args.steps,
        ),
        "Convex, 6 targets, 5 networks, context 3x128, batch 256": (
            convex_case,
            max(5, args.steps // 10),
        ),
    }
    for title, (case, n_steps) in cases.items():
        per_step, table = measure(case, n_steps)
        lines += [
            f"## {title}",
            "",
            f"{1000 * per_step:.2f} ms per step (mean of {n_steps} steps).",
            "",
            "```",
            table.strip(),
            "```",
            "",
        ]
        print(f"{title}: {1000 * per_step:.2f} ms per step")
    (RESULTS / args.output).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
