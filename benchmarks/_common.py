"""Shared plumbing of the benchmark runners: threads, paths, machine, cache.

Nothing here imports numpy or any model library at module level, so that
:func:`pin_threads` can set the thread variables of the native libraries
before they are loaded.
"""

import datetime
import hashlib
import json
import os
import platform
import sys
import warnings
from pathlib import Path

#: Folder of the benchmark scripts, and of the repository root above it.
BENCH_DIR = Path(__file__).resolve().parent
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
    ]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_label():
    """Short name of this machine (CPU model and logical cores), stored with
    every result so that times measured on different machines are told apart."""
    return f"{_cpu_model()}, {os.cpu_count()} logical cores"


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
