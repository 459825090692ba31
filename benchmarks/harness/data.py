"""Data sets and the split protocol of the benchmarks.

UCI sets (``uci/*.txt``): whitespace-separated numbers, the last column is
the target. Splits follow the standard protocol of Hernandez-Lobato & Adams
(2015), reused by Gal & Ghahramani, Lakshminarayanan et al. and NGBoost:
``np.random.seed(1)``, then for each split
``perm = np.random.choice(range(n), n, replace=False)``, the first
``round(0.9 n)`` rows of ``perm`` train and the rest test.

Mulan sets (``multioutput/*.csv``): a header line, the last columns are the
targets. ``scpf`` has empty cells in its one-hot columns (the category is
unknown); they are read as 0, i.e. "none of the listed categories".
"""

import os
from pathlib import Path

import numpy as np

from .common import data_dir, warn_missing

#: UCI file stems in table order, with the published number of splits.
UCI_SETS = {
    "boston": ("bostonHousing.txt", 20),
    "concrete": ("concrete.txt", 20),
    "energy": ("energy.txt", 20),
    "kin8nm": ("kin8nm.txt", 20),
    "naval": ("naval-propulsion-plant.txt", 20),
    "power": ("power-plant.txt", 20),
    "protein": ("protein-tertiary-structure.txt", 5),
    "wine": ("wine-quality-red.txt", 20),
    "yacht": ("yacht.txt", 20),
}
#: Mulan multi-target sets and their number of target columns.
MULTIOUTPUT_SETS = {"enb": 2, "jura": 3, "scpf": 3, "slump": 3}


def add_split_arguments(parser, example):
    """The arguments of a script that works on some standard splits of one
    UCI set: the set, the split indices and ``--data``."""
    parser.add_argument("dataset", help=f"UCI set, e.g. {example}")
    parser.add_argument("splits", nargs="+", type=int, help="standard split indices")
    parser.add_argument("--data", default=None, help="data folder")


def load_standard_splits(args):
    """``(X, y, splits)`` of the script's UCI set (see
    :func:`add_split_arguments`), or ``None`` if it is missing (with a
    warning). Pins torch and OpenMP to one thread first, as in the suites;
    call it before torch is imported."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    loaded = load_uci(data_dir(args.data), args.dataset)
    if loaded is None:
        return None
    X, y = loaded
    return X, y, standard_splits(len(y), UCI_SETS[args.dataset][1])


def load_uci(folder, name):
    """``(X, y)`` of a UCI set, or ``None`` (with a loud warning) if missing."""
    path = Path(folder) / "uci" / UCI_SETS[name][0]
    if not path.is_file():
        warn_missing(f"UCI set {name!r}", path)
        return None
    data = np.loadtxt(path, ndmin=2)
    return data[:, :-1], data[:, -1]


def load_multioutput(folder, name):
    """``(X, Y)`` of a Mulan set, or ``None`` (with a loud warning) if missing."""
    path = Path(folder) / "multioutput" / f"{name}.csv"
    if not path.is_file():
        warn_missing(f"multi-target set {name!r}", path)
        return None
    data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float64)
    data = np.nan_to_num(data, nan=0.0)
    n_targets = MULTIOUTPUT_SETS[name]
    return data[:, :-n_targets], data[:, -n_targets:]


def standard_splits(n_rows, n_splits):
    """The first ``n_splits`` train/test index pairs of the standard protocol.

    ``RandomState(1)`` draws exactly what ``np.random.seed(1)`` followed by
    ``np.random.choice`` draws, without touching numpy's global state.
    """
    rng = np.random.RandomState(1)
    n_train = int(round(0.9 * n_rows))
    splits = []
    for _ in range(n_splits):
        perm = rng.choice(range(n_rows), n_rows, replace=False)
        splits.append((perm[:n_train], perm[n_train:]))
    return splits


def uci_splits(folder, datasets, splits=None):
    """``(dataset, X, y, split, train, test)`` for the standard splits of the
    UCI sets found in ``folder`` (a missing set is skipped with a warning),
    only the split indices in ``splits`` unless it is ``None``."""
    for dataset in datasets:
        loaded = load_uci(folder, dataset)
        if loaded is None:
            continue
        X, y = loaded
        standard = standard_splits(len(y), UCI_SETS[dataset][1])
        for split, (train, test) in enumerate(standard):
            if splits is None or split in splits:
                yield dataset, X, y, split, train, test


def joint_splits(folder, dataset, splits=None, n_splits=20, n_train=3000):
    """``(split, load)`` for the splits of a Mulan set or the seeds of a
    multi-target generator (only those in ``splits`` unless it is
    ``None``); ``load()`` returns ``(X_train, Y_train, X_test, Y_test)``:
    the standard split, or ``n_train`` training rows of the seed and 2000
    test rows of seed + 1000, generated only when called. A missing Mulan
    set yields nothing (with a warning)."""
    generators = multioutput_generators()
    if dataset in generators:
        make = generators[dataset]
        for seed in range(n_splits):
            if splits is None or seed in splits:

                def load(seed=seed):
                    X_train, Y_train, _ = make(n_train, random_state=seed)
                    X_test, Y_test, _ = make(2000, random_state=1000 + seed)
                    return X_train, Y_train, X_test, Y_test

                yield seed, load
        return
    loaded = load_multioutput(folder, dataset)
    if loaded is None:
        return
    X, Y = loaded
    for split, (train, test) in enumerate(standard_splits(len(Y), n_splits)):
        if splits is None or split in splits:

            def load(train=train, test=test):
                return X[train], Y[train], X[test], Y[test]

            yield split, load


def cap_rows(indices, limit, seed):
    """At most ``limit`` of ``indices`` (a seeded random subset), order kept."""
    if limit is None or len(indices) <= limit:
        return indices
    keep = np.random.RandomState(seed).choice(len(indices), limit, replace=False)
    return indices[np.sort(keep)]


def univariate_generators():
    """Name -> generator of :mod:`skquantile.datasets` returning X, y, truth."""
    from skquantile import datasets

    return {
        "heteroscedastic": datasets.make_heteroscedastic,
        "three peaks": datasets.make_three_peaks,
        "heavy tailed": datasets.make_heavy_tailed,
    }


def multioutput_generators():
    """Name -> generator returning X, Y, truth with ``truth.sample``."""
    from skquantile import datasets

    generators = {"correlated horizons": datasets.make_correlated_horizons}
    if hasattr(datasets, "make_two_targets"):
        generators["two targets"] = datasets.make_two_targets
    return generators
