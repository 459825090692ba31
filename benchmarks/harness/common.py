"""Shared plumbing of the benchmark runners: threads, paths, machine, cache.

Nothing here imports numpy or any model library at module level, so that
:func:`pin_threads` can set the thread variables of the native libraries
before they are loaded.
"""

import argparse
import datetime
import functools
import hashlib
import json
import math
import os
import platform
import sys
import warnings
from pathlib import Path

#: Folder of the benchmark scripts, and of the repository root above it.
BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
#: Default data folder, relative to the repository root.
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def pin_threads(threads):
    """Give every native thread pool in this process ``threads`` threads.

    The environment variables must be set before numpy, torch or the
    boosting libraries are first imported; torch and the already loaded
    OpenMP/BLAS pools are then limited explicitly as well.
    """
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    # Inter-op threads can only be set once per process, before any parallel
    # work; ignore the error when a caller already did.
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass
    threadpool_limits(threads)


def data_dir(argument=None):
    """The data folder: the argument, else ``$SKQUANTILE_DATA``, else the default."""
    chosen = argument or os.environ.get("SKQUANTILE_DATA") or DEFAULT_DATA
    return Path(chosen).expanduser().resolve()


def results_dir(quick):
    """Where a run writes: ``results/quick`` for quick runs, ``results`` else."""
    return BENCH_DIR / "results" / ("quick" if quick else "")


def study_arguments(doc, datasets, splits="0-4"):
    """The command line that every study script starts from: ``run`` or
    ``report``, the data sets, a range of splits and the data folder (add
    the study's own options to it, then :func:`run_study`)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("command", choices=["run", "report"])
    parser.add_argument("--datasets", default=datasets)
    parser.add_argument(
        "--splits", default=splits, help="first-last or one split, e.g. 0-4"
    )
    parser.add_argument("--data", default=None, help="data folder")
    return parser


def run_study(parser, cache_path, report, run, extra=lambda args: ()):
    """Parse the study's command line and call ``report(cache)``, or, with
    one thread per native library, ``run(cache, folder, datasets, splits,
    *extra(args))``: the data folder, the list of data sets and the set of
    splits (``None`` for all), then the study's own options."""
    args = parser.parse_args()
    cache = ResultCache(cache_path)
    if args.command == "report":
        report(cache)
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run(
        cache,
        data_dir(args.data),
        args.datasets.split(","),
        split_range(args.splits),
        *extra(args),
    )


def split_range(text):
    """The splits of ``"first-last"`` (or of one number) as a set; ``None``
    (every split) for ``None``."""
    if text is None:
        return None
    first, _, last = text.partition("-")
    return set(range(int(first), int(last or first) + 1))


def warn_missing(what, path):
    """Print a loud warning about a data set that cannot be found."""
    message = f"SKIPPED {what}: not found at {path}"
    warnings.warn(message, stacklevel=2)
    print(f"!!! {message}", file=sys.stderr, flush=True)
    return message


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return pages / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def total_memory_bytes():
    """Physical memory of the machine, in bytes (NaN if unknown)."""
    return _memory_gib() * 2**30


def library_versions():
    """Versions of the libraries that the benchmark compares."""
    from importlib import metadata

    names = [
        "skquantile",
        "torch",
        "skorch",
        "scikit-learn",
        "numpy",
        "quantile-forest",
        "lightgbm",
        "xgboost",
        "ngboost",
        "catboost",
    ]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


#: Optimiser steps of the speed probe's fixed workload.
PROBE_STEPS = 50


@functools.cache
def speed_probe():
    """Seconds this process takes for a fixed training workload (median of 5).

    The workload is what the neural models spend their fits on: Adam steps
    of a 20-128-128-128-1 GELU network on a batch of 256 rows, on one
    thread. The CPU model alone does not tell machines apart: two sessions
    on machines reporting the same "AMD EPYC" model fitted the same
    networks about four times apart in time. Measured once per process, in
    the conditions the fits then run in (a second benchmark process on the
    other core included).
    """
    import time

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(0)
        X = torch.randn(256, 20, generator=generator)
        y = torch.randn(256, 1, generator=generator)
        times = []
        for _ in range(6):
            torch.manual_seed(0)
            network = torch.nn.Sequential(
                torch.nn.Linear(20, 128),
                torch.nn.GELU(),
                torch.nn.Linear(128, 128),
                torch.nn.GELU(),
                torch.nn.Linear(128, 128),
                torch.nn.GELU(),
                torch.nn.Linear(128, 1),
            )
            optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
            start = time.perf_counter()
            for _ in range(PROBE_STEPS):
                optimiser.zero_grad()
                loss = ((network(X) - y) ** 2).mean()
                loss.backward()
                optimiser.step()
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    # The first run warms the allocator and the kernels up.
    return sorted(times[1:])[2]


def speed_class(seconds):
    """The factor-of-two band of probe seconds that ``seconds`` falls in."""
    low = 2.0 ** math.floor(math.log2(seconds))
    return f"probe {low:.3g}-{2 * low:.3g} s"


def machine_label():
    """Short name of this machine, stored with every result so that times
    measured on different machines are told apart: CPU model, logical
    cores and the factor-of-two band of :func:`speed_probe` (results stored
    before the probe existed name only the first two)."""
    return (
        f"{_cpu_model()}, {os.cpu_count()} logical cores, {speed_class(speed_probe())}"
    )


def machine_description(threads):
    """One Markdown paragraph describing the machine, threads, date and versions."""
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return (
        f"Report built on: {_cpu_model()}, {os.cpu_count()} logical cores, "
        f"{_memory_gib():.1f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}. Threads per model: **{threads}**. "
        f"Date: {datetime.date.today().isoformat()}.\n\nVersions: {versions}."
    )


def settings_hash(text):
    """Short stable hash of a model's settings, so stale cache lines are ignored."""
    return hashlib.sha1(text.encode()).hexdigest()[:10]


class ResultCache:
    """Append-only JSON-lines store of per-split results, for resumable runs.

    Every record carries a ``key``; :meth:`get` returns the record stored
    under a key, so a runner can skip work it has already done. Records are
    flushed to disk one by one, so an interrupted run loses at most the
    split in progress.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._records = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by an interruption
                    self._records[record["key"]] = record

    @staticmethod
    def key(*parts):
        """A key made of the given parts."""
        return "|".join(str(part) for part in parts)

    def get(self, key):
        """The stored record for ``key``, or ``None``."""
        return self._records.get(key)

    def put(self, record):
        """Store ``record`` (a JSON-serialisable dict with a ``key``), with the
        label of the machine that measured it."""
        record.setdefault("machine", machine_label())
        record.setdefault("speed_probe_s", speed_probe())
        self._records[record["key"]] = record
        with self.path.open("a") as handle:
            handle.write(json.dumps(record, default=_json_default) + "\n")

    def records(self):
        """All stored records (the latest one per key)."""
        return list(self._records.values())


def _json_default(value):
    """Serialise numpy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def default_records(suite, cls, dataset):
    """The full protocol's one-thread records of ``cls`` at its current
    settings on ``dataset`` of ``suite`` (``"uci"``, ``"multioutput"``), by
    split: the reference that the pilot scripts compare with."""
    suffix = settings_hash(cls.signature())
    cache = ResultCache(results_dir(False) / "raw" / f"{suite}.jsonl")
    return {
        record["split"]: record
        for record in cache.records()
        if record.get("model") == cls.name
        and record.get("dataset") == dataset
        and record.get("threads") == 1
        and record["key"].endswith(suffix)
    }


def fit_holding_out(estimator, X, y, train, split, share=0.1):
    """Fit ``StandardScaler()`` then ``estimator`` on the training rows of a
    split less a held-out ``share`` of them (seeded by the split), as the
    pilot scripts do; returns ``(scaler, fitted estimator, held-out rows,
    fit seconds)``."""
    import time

    import numpy as np
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    order = np.random.RandomState(1000 + split).permutation(train)
    n_held = int(round(share * len(train)))
    held, fitted = order[:n_held], order[n_held:]
    started = time.perf_counter()
    model = make_pipeline(StandardScaler(), estimator).fit(X[fitted], y[fitted])
    return model[0], model[-1], held, time.perf_counter() - started
