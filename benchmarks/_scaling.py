"""Scaling runs: fit time and peak memory against n, and predict time.

Each (model, n) point runs :mod:`_scaling_worker` in a fresh Python process,
so that its peak resident memory (``VmHWM``, the high-water mark of that
process's own address space) belongs to that fit alone. Sizes run in
increasing order per model; a size is skipped (and the skip recorded) when
the previous size projects, linearly in n, a fit longer than the time budget
or a peak memory above the memory budget, and after a time-out.
"""

import json
import subprocess
import sys

from _common import BENCH_DIR, ResultCache, settings_hash, total_memory_bytes
from _models import UNIVARIATE, available_models


def _run_worker(name, n, threads, predict_rows, timeout):
    command = [
        sys.executable,
        str(BENCH_DIR / "_scaling_worker.py"),
        "--model",
        name,
        "--n",
        str(n),
        "--threads",
        str(threads),
        "--predict-rows",
        str(predict_rows),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"killed after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"status": "error", "reason": " / ".join(tail)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["status"] = "ok"
    return result


def _projection(previous, n, time_budget, memory_budget_mb):
    """Why size ``n`` should be skipped after the ``previous`` record, or None."""
    if previous is None:
        return None
    if previous["status"] != "ok":
        return f"skipped: size {previous['n']} did not finish ({previous['status']})"
    factor = n / previous["n"]
    projected_time = previous["fit_seconds"] * factor
    if projected_time > time_budget:
        return (
            f"skipped: projected fit {projected_time:.0f} s > budget "
            f"{time_budget:.0f} s"
        )
    growth = max(previous["peak_rss_mb"] - previous["baseline_rss_mb"], 0.0)
    projected_memory = previous["baseline_rss_mb"] + growth * factor
    if projected_memory > memory_budget_mb:
        return (
            f"skipped: projected peak memory {projected_memory:.0f} MB > budget "
            f"{memory_budget_mb:.0f} MB"
        )
    return None


def run_scaling(protocol, threads, cache_path, only_models=None, memory_budget=0.6):
    """Run every scaling point; ``memory_budget`` is a share of physical RAM."""
    cache = ResultCache(cache_path)
    classes, missing = available_models(UNIVARIATE, only_models)
    notes = [f"model not installed, skipped: {name}" for name in missing]
    sizes = sorted(set(protocol.scaling_sizes) | {protocol.scaling_predict_train})
    memory_budget_mb = memory_budget * total_memory_bytes() / 1e6
    for cls in classes:
        previous = None
        for n in sizes:
            key = ResultCache.key("scaling", n, threads, cls.name)
            key += "|" + settings_hash(cls.signature())
            record = cache.get(key)
            # A skip depends on the budget of the run that made it, so it is
            # decided anew rather than taken from the cache.
            if record is not None and record.get("status") == "skipped":
                record = None
            if record is None:
                reason = _projection(
                    previous, n, protocol.scaling_budget_seconds, memory_budget_mb
                )
                if reason is not None:
                    record = {"status": "skipped", "reason": reason}
                else:
                    predict_rows = (
                        protocol.scaling_predict_rows
                        if n == protocol.scaling_predict_train
                        else 0
                    )
                    print(f"  [scaling] {cls.name} n={n} ...", flush=True)
                    record = _run_worker(
                        cls.name,
                        n,
                        threads,
                        predict_rows,
                        timeout=2 * protocol.scaling_budget_seconds + 600,
                    )
                record.update(
                    key=key, suite="scaling", model=cls.name, n=n, threads=threads
                )
                cache.put(record)
                print(f"  [scaling] {cls.name} n={n}: {_describe(record)}", flush=True)
            previous = record
    return notes


def _describe(record):
    if record["status"] != "ok":
        return record.get("reason", record["status"])
    text = f"fit {record['fit_seconds']:.2f} s, peak {record['peak_rss_mb']:.0f} MB"
    if "predict_seconds" in record:
        text += f", predict {record['predict_seconds']:.3f} s"
    return text
