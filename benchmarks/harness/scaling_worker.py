"""One scaling point in a fresh process: fit one model on n rows, report JSON.

Run by :mod:`scaling`; not meant to be called by hand, though it can be,
from ``benchmarks/``::

    python -m harness.scaling_worker --model "LightGBM x19" --n 10000

The last line of the output is a JSON object with

- ``fit_seconds``: wall time of ``fit`` on ``n`` rows x 20 features;
- ``baseline_rss_mb``: peak resident memory of this process *before* the
  fit (Python, the imported libraries, a warm-up fit on 300 rows and the
  training data);
- ``peak_rss_mb``: peak resident memory of this process up to the end of
  the fit (``VmHWM`` of ``/proc/self/status`` on Linux, see :func:`_peak_mb`).
  Nothing is subtracted: it is what the machine must hold to run the fit
  from a fresh interpreter;
- with ``--predict-rows R``: ``predict_seconds``, the median of 3 timings
  (1 if slow) of predicting 99 levels (19 for models fitted per level) for
  ``R`` fresh rows, measured after the peak memory was read.
"""

import argparse
import json
import resource
import sys


def _peak_mb():
    """Peak resident memory of this process so far, in MB (1e6 bytes).

    On Linux this is ``VmHWM`` of ``/proc/self/status``, the high-water mark
    of this program's own address space. ``ru_maxrss`` is not used there: the
    kernel carries the parent's resident size at ``fork`` over into the
    child's ``ru_maxrss`` across ``exec``, so a worker started by a large
    parent would report the parent's size.
    """
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    # Elsewhere: ru_maxrss, in kilobytes (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--predict-rows", type=int, default=0)
    args = parser.parse_args()

    from .common import pin_threads

    pin_threads(args.threads)

    from skquantile.datasets import make_heteroscedastic

    from .models import model_by_name
    from .scoring import LEVELS, MIDPOINTS, median_time, timed

    cls = model_by_name(args.model)
    X, y, _ = make_heteroscedastic(300, n_features=args.features, random_state=99)
    cls.warm_up_model()(args.threads, 0).fit(X, y).quantiles(X[:10], LEVELS)
    X, y, _ = make_heteroscedastic(args.n, n_features=args.features, random_state=0)
    result = {"baseline_rss_mb": _peak_mb()}
    model = cls(args.threads, 0)
    result["fit_seconds"], _ = timed(lambda: model.fit(X, y))
    result["peak_rss_mb"] = _peak_mb()
    if args.predict_rows:
        del X, y
        X_new, _, _ = make_heteroscedastic(
            args.predict_rows, n_features=args.features, random_state=1
        )
        levels = MIDPOINTS if cls.full_quantile_function else LEVELS
        result["predict_seconds"], _ = median_time(
            lambda: model.quantiles(X_new, levels), repeats=3, budget=10.0
        )
        result["predict_levels"] = len(levels)
        result["predict_rows"] = args.predict_rows
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
