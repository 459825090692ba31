"""Runner of the multi-target suite: the joint model against independent marginals.

``ConvexQuantileRegressor`` models the joint law of the targets.
``IncrementalQuantileRegressor`` fitted on the same 2-d target models each
target on its own: its joint draws (``sample``) have independent marginals,
and its 90% joint region is the box of central marginal intervals of
coverage ``0.9 ** (1 / d)`` each (see :func:`_scoring.joint_box_levels`).
For the generated sets the true law is scored too (``oracle``).
"""

import traceback

from . import data as _data
from .common import ResultCache, settings_hash
from .models import MULTIOUTPUT, available_models, for_protocol
from .scoring import median_time, pickled_megabytes, score_joint, timed

ORACLE = "oracle (true law)"


def evaluate(cls, threads, seed, data, n_draws):
    """Fit one multi-target model and score its joint predictions."""
    X_train, Y_train, X_test, Y_test = data
    model = cls(threads, seed)
    fit_seconds, _ = timed(lambda: model.fit(X_train, Y_train))
    sample_seconds, draws = median_time(
        lambda: model.sample(X_test, n_draws, random_state=seed)
    )
    record = score_joint(
        Y_test, draws, model.joint_region_contains(X_test, Y_test, coverage=0.9)
    )
    record.update(
        fit_seconds=fit_seconds,
        sample_seconds=sample_seconds,
        size_mb=pickled_megabytes(model.fitted),
    )
    return record


def _base(key, dataset, split, model, data):
    return {
        "key": key,
        "suite": "multioutput",
        "dataset": dataset,
        "split": split,
        "model": model,
        "n_train": len(data[1]),
        "n_test": len(data[3]),
        "n_targets": data[3].shape[1],
    }


def _run_split(cache, dataset, split, threads, data, classes, n_draws):
    for cls in classes:
        key = ResultCache.key(
            dataset, split, threads, cls.name, settings_hash(cls.signature())
        )
        if cache.get(key) is not None:
            continue
        try:
            record = evaluate(cls, threads, split, data, n_draws)
        except Exception as error:  # noqa: BLE001 - record any failure, go on
            traceback.print_exc()
            record = {"error": f"{type(error).__name__}: {error}"}
        record.update(_base(key, dataset, split, cls.name, data), threads=threads)
        cache.put(record)
        status = record.get("error") or (
            f"energy {record['energy']:.4g}, fit {record['fit_seconds']:.2f} s"
        )
        print(f"  [multioutput] {dataset} split {split} {cls.name}: {status}")


def run_multioutput(
    protocol,
    folder,
    threads,
    cache_path,
    only_models=None,
    only_datasets=None,
    splits=None,
):
    """Run the multi-target suite; returns notes about skipped sets.

    ``only_models`` and ``only_datasets`` optionally restrict the run to the
    given model names and data sets (Mulan sets or generator names);
    ``splits`` (a range, say) to the splits (seeds) it holds.
    """

    def wanted(dataset):
        return protocol.runs(dataset) and (
            only_datasets is None or dataset in only_datasets
        )

    cache = ResultCache(cache_path)
    classes, _ = available_models(MULTIOUTPUT, only_models)
    if protocol.quick:
        classes = [c for c in classes if not getattr(c, "full_protocol_only", False)]
    classes = for_protocol(classes, protocol)
    notes = []
    for dataset in filter(wanted, _data.MULTIOUTPUT_SETS):
        loaded = _data.load_multioutput(folder, dataset)
        if loaded is None:
            notes.append(
                f"SKIPPED multi-target set {dataset}: file not found in "
                f"{folder}/multioutput"
            )
            continue
        X, Y = loaded
        standard = _data.standard_splits(len(Y), protocol.multioutput_splits)
        print(f"multi-target {dataset}: {len(Y)} rows, {len(standard)} splits")
        for split, (train, test) in enumerate(standard):
            if splits is not None and split not in splits:
                continue
            data = (X[train], Y[train], X[test], Y[test])
            _run_split(cache, dataset, split, threads, data, classes, protocol.n_draws)
    for dataset, make in _data.multioutput_generators().items():
        if not wanted(dataset):
            continue
        for seed in range(protocol.multioutput_splits):
            if splits is not None and seed not in splits:
                continue
            X_train, Y_train, truth = make(
                protocol.multioutput_generator_train, random_state=seed
            )
            X_test, Y_test, _ = make(
                protocol.multioutput_generator_test, random_state=1000 + seed
            )
            data = (X_train, Y_train, X_test, Y_test)
            key = ResultCache.key(dataset, seed, threads, ORACLE)
            if cache.get(key) is None:
                draws = truth.sample(X_test, protocol.n_draws, random_state=seed)
                record = score_joint(
                    Y_test, draws, truth.region_contains(X_test, Y_test, coverage=0.9)
                )
                record.update(_base(key, dataset, seed, ORACLE, data), threads=threads)
                cache.put(record)
            _run_split(cache, dataset, seed, threads, data, classes, protocol.n_draws)
    return notes
