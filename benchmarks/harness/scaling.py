"""Scaling runs: fit time and peak memory against n, and predict time.

Each (model, n) point runs :mod:`scaling_worker` in a fresh Python process,
so that its peak resident memory (``VmHWM``, the high-water mark of that
process's own address space) belongs to that fit alone. The small sizes are
measured several times, in rounds over all models (see
:class:`_config.Protocol`), the large ones once. Sizes run in increasing
order per model; a size is skipped (and the skip recorded) when
the previous size projects, linearly in n, a fit longer than the time budget
or a peak memory above the memory budget, and after a time-out.
"""

import json
import subprocess
import sys

import numpy as np

from .common import BENCH_DIR, ResultCache, settings_hash, total_memory_bytes
from .models import UNIVARIATE, available_models


def _run_worker(name, n, threads, predict_rows, timeout):
    command = [
        sys.executable,
        "-m",
        "harness.scaling_worker",
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
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=BENCH_DIR,
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
    """Run every scaling point; ``memory_budget`` is a share of physical RAM.

    The sizes up to ``protocol.scaling_repeat_up_to`` are measured
    ``protocol.scaling_repeats`` times, round by round over all models; the
    larger ones once, after the rounds, projected from the median of the
    repeats of the size below.
    """
    cache = ResultCache(cache_path)
    classes, missing = available_models(UNIVARIATE, protocol.scaling_models)
    if only_models is not None:
        classes = [cls for cls in classes if cls.name in only_models]
    notes = [f"model not installed, skipped: {name}" for name in missing]
    sizes = sorted(set(protocol.scaling_sizes) | {protocol.scaling_predict_train})
    repeated = [n for n in sizes if n <= protocol.scaling_repeat_up_to]
    once = [n for n in sizes if n > protocol.scaling_repeat_up_to]
    memory_mb = memory_budget * total_memory_bytes() / 1e6

    def point(cls, n, repeat, previous):
        return _point(cache, cls, n, repeat, previous, protocol, threads, memory_mb)

    for repeat in range(protocol.scaling_repeats):
        for cls in classes:
            previous = None
            for n in repeated:
                previous = point(cls, n, repeat, previous)
    for cls in classes:
        previous = None
        if repeated:
            rounds = [
                cache.get(_key(cls, repeated[-1], repeat, threads))
                for repeat in range(protocol.scaling_repeats)
            ]
            previous = median_record([r for r in rounds if r is not None])
        for n in once:
            previous = point(cls, n, 0, previous)
    return notes


def _key(cls, n, repeat, threads):
    """Cache key of one scaling fit; the first repeat has the key of a
    single measurement."""
    key = ResultCache.key("scaling", n, threads, cls.name)
    if repeat:
        key += f"|repeat {repeat}"
    return key + "|" + settings_hash(cls.signature())


def _point(cache, cls, n, repeat, previous, protocol, threads, memory_mb):
    """The record of one scaling fit, measured unless the cache has it."""
    key = _key(cls, n, repeat, threads)
    record = cache.get(key)
    # A skip depends on the budget of the run that made it, so it is
    # decided anew rather than taken from the cache.
    if record is not None and record.get("status") == "skipped":
        record = None
    if record is not None:
        return record
    reason = _projection(previous, n, protocol.scaling_budget_seconds, memory_mb)
    label = f"{cls.name} n={n}" + (f" (repeat {repeat + 1})" if repeat else "")
    if reason is not None:
        record = {"status": "skipped", "reason": reason}
    else:
        predict_rows = (
            protocol.scaling_predict_rows if n == protocol.scaling_predict_train else 0
        )
        print(f"  [scaling] {label} ...", flush=True)
        record = _run_worker(
            cls.name,
            n,
            threads,
            predict_rows,
            timeout=2 * protocol.scaling_budget_seconds + 600,
        )
    record.update(
        key=key, suite="scaling", model=cls.name, n=n, threads=threads, repeat=repeat
    )
    cache.put(record)
    print(f"  [scaling] {label}: {_describe(record)}", flush=True)
    return record


def median_record(records):
    """One record for the repeats of a scaling point.

    Median fit and predict seconds and memory before the fit, the largest
    peak memory, ``repeats`` and every repeat's ``fit_seconds_each``. If a
    repeat did not finish, that repeat's record stands for the point.
    """
    if not records:
        return None
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        return failed[0]
    merged = dict(records[0])
    for field in ("fit_seconds", "predict_seconds", "baseline_rss_mb"):
        if field in merged:
            merged[field] = float(np.median([r[field] for r in records]))
    merged["peak_rss_mb"] = max(r["peak_rss_mb"] for r in records)
    merged["repeats"] = len(records)
    merged["fit_seconds_each"] = [r["fit_seconds"] for r in records]
    return merged


def _describe(record):
    if record["status"] != "ok":
        return record.get("reason", record["status"])
    text = f"fit {record['fit_seconds']:.2f} s, peak {record['peak_rss_mb']:.0f} MB"
    if "predict_seconds" in record:
        text += f", predict {record['predict_seconds']:.3f} s"
    return text
