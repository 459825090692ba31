"""The torch thread count of fitting and predicting (the ``n_jobs`` parameter)."""

import contextlib
import functools
import threading

import torch
from joblib import effective_n_jobs

#: Threads that ``n_jobs=None`` gives torch. The networks of this package are
#: small: at the sizes of a training step every torch operation takes a few
#: microseconds, and a second thread mostly adds the cost of the threads
#: waiting for each other at every operation. On an idle 2-core machine one
#: thread was as fast as two for the default fits (see the user guide), and
#: with another busy process on the machine two threads made the same fit up
#: to 50 times slower, since a thread that loses its core stalls the other at
#: every operation. One thread also makes a fit independent of the machine:
#: the thread count decides how torch splits its float32 sums, so a seeded fit
#: gives the same model on 2 cores and on 64.
DEFAULT_THREADS = 1

# set_num_threads / get_num_threads act on the calling thread's OpenMP
# setting, but torch also keeps one process-wide count; the lock keeps two
# Python threads from restoring each other's value out of order.
_LOCK = threading.RLock()


def resolve_threads(n_jobs):
    """The torch thread count for ``n_jobs``.

    ``None`` is :data:`DEFAULT_THREADS`, or fewer if the caller has limited
    the threads already (``threadpoolctl.threadpool_limits``, a joblib worker,
    ``OMP_NUM_THREADS``, ``torch.set_num_threads``): torch then reports that
    limit as its thread count. A positive integer is that many threads; a
    negative one counts back from the number of CPUs as in scikit-learn
    (``-1`` all of them, ``-2`` all but one).
    """
    if n_jobs is None:
        return max(1, min(DEFAULT_THREADS, torch.get_num_threads()))
    return max(1, int(effective_n_jobs(n_jobs)))


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run torch with ``n_threads`` threads, then restore the caller's count."""
    with _LOCK:
        previous = torch.get_num_threads()
        changed = previous != n_threads
        if changed:
            torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        if changed:
            with _LOCK:
                torch.set_num_threads(previous)


def with_threads(method):
    """Run an estimator method with the torch threads its ``n_jobs`` asks for."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with torch_threads(resolve_threads(getattr(self, "n_jobs", None))):
            return method(self, *args, **kwargs)

    return wrapper
