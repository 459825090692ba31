"""Runners of the single-target suites: UCI and the package's generators.

Each (data set, split, model) result is one record in the suite's cache,
written as soon as it is computed; a rerun skips what is already cached.
"""

import sys
import traceback

from . import data as _data
from .common import ResultCache, machine_label, settings_hash
from .models import UNIVARIATE, available_models, for_protocol
from .scoring import (
    LEVELS,
    MIDPOINTS,
    median_time,
    pickled_megabytes,
    score_quantiles,
    timed,
)

ORACLE = "oracle (true quantiles)"
_WARMED_UP = set()


def _warm_up(cls, threads):
    """Fit once on a tiny problem, so one-off start-up costs are not timed."""
    if cls.name in _WARMED_UP:
        return
    from skquantile.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(300, random_state=99)
    model = cls.warm_up_model()(threads, 0).fit(X, y)
    model.quantiles(X[:10], LEVELS)
    _WARMED_UP.add(cls.name)


def evaluate(cls, threads, seed, X_train, y_train, X_test, y_test):
    """Fit one model and score it on the test rows; returns a dict."""
    _warm_up(cls, threads)
    model = cls(threads, seed)
    fit_seconds, _ = timed(lambda: model.fit(X_train, y_train))
    quantiles = model.quantiles(X_test, LEVELS)
    full = None
    if cls.full_quantile_function:
        predict_seconds, full = median_time(lambda: model.quantiles(X_test, MIDPOINTS))
        predict_levels = len(MIDPOINTS)
    else:
        predict_seconds, _ = median_time(lambda: model.quantiles(X_test, LEVELS))
        predict_levels = len(LEVELS)
    record = score_quantiles(y_test, quantiles, full)
    record.update(
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        predict_levels=predict_levels,
        size_mb=pickled_megabytes(model.fitted),
    )
    return record


def _run_models(
    cache, suite, dataset, split, threads, data, classes, extra=None, remeasure=False
):
    """Evaluate every model of ``classes`` on one split, using the cache.

    With ``remeasure`` a cached record that another machine measured is
    measured again here (the newest record of a key is the one reported), so
    that the seconds of models compared on time come from one machine.
    """
    X_train, y_train, X_test, y_test = data
    for cls in classes:
        key = ResultCache.key(
            dataset, split, threads, cls.name, settings_hash(cls.signature())
        )
        cached = cache.get(key)
        if cached is not None and not (
            remeasure and cached.get("machine") != machine_label()
        ):
            continue
        base = {
            "threads": threads,
            "key": key,
            "suite": suite,
            "dataset": dataset,
            "split": split,
            "model": cls.name,
            "n_train": len(y_train),
            "n_test": len(y_test),
        }
        try:
            record = evaluate(cls, threads, split, X_train, y_train, X_test, y_test)
        except Exception as error:  # noqa: BLE001 - record any failure, go on
            traceback.print_exc()
            record = {"error": f"{type(error).__name__}: {error}"}
        record.update(base)
        if extra is not None and "error" not in record:
            record.update(extra(record))
        cache.put(record)
        status = record.get("error") or (
            f"pinball19 {record['pinball19']:.4g}, fit {record['fit_seconds']:.2f} s"
        )
        print(f"  [{suite}] {dataset} split {split} {cls.name}: {status}", flush=True)


def run_uci(
    protocol,
    folder,
    threads,
    cache_path,
    only_models=None,
    only_datasets=None,
    splits=None,
    remeasure=False,
):
    """Run the UCI suite (or the sets in ``only_datasets``, and of each set
    the splits in ``splits``, a range say); returns the list of warnings
    about missing sets. ``remeasure``: see :func:`_run_models`."""
    cache = ResultCache(cache_path)
    classes, missing_models = available_models(UNIVARIATE, only_models)
    classes = for_protocol(classes, protocol)
    notes = [f"model not installed, skipped: {name}" for name in missing_models]
    for dataset, (_, published_splits) in _data.UCI_SETS.items():
        if not protocol.runs(dataset) or (
            only_datasets is not None and dataset not in only_datasets
        ):
            continue
        loaded = _data.load_uci(folder, dataset)
        if loaded is None:
            notes.append(f"SKIPPED UCI set {dataset}: file not found in {folder}/uci")
            continue
        X, y = loaded
        n_splits = protocol.uci_splits or published_splits
        standard = _data.standard_splits(len(y), min(n_splits, published_splits))
        print(f"UCI {dataset}: {len(y)} rows, {len(standard)} splits", flush=True)
        for split, (train, test) in enumerate(standard):
            if splits is not None and split not in splits:
                continue
            train = _data.cap_rows(train, protocol.uci_max_train, split)
            test = _data.cap_rows(test, protocol.uci_max_test, 1000 + split)
            data = (X[train], y[train], X[test], y[test])
            _run_models(
                cache,
                "uci",
                dataset,
                split,
                threads,
                data,
                classes,
                remeasure=remeasure,
            )
    return notes


def run_generators(protocol, threads, cache_path, only_models=None):
    """Run the generator suite, with the oracle and the gap to it."""
    cache = ResultCache(cache_path)
    classes, missing_models = available_models(UNIVARIATE, only_models)
    classes = for_protocol(classes, protocol)
    notes = [f"model not installed, skipped: {name}" for name in missing_models]
    for dataset, make in _data.univariate_generators().items():
        if not protocol.runs(dataset):
            continue
        for seed in range(protocol.generator_seeds):
            X_train, y_train, truth = make(protocol.generator_train, random_state=seed)
            X_test, y_test, _ = make(protocol.generator_test, random_state=1000 + seed)
            oracle_key = ResultCache.key(dataset, seed, threads, ORACLE)
            oracle = cache.get(oracle_key)
            if oracle is None:
                oracle = score_quantiles(
                    y_test,
                    truth.predict_quantile(X_test, LEVELS),
                    truth.predict_quantile(X_test, MIDPOINTS),
                )
                oracle.update(
                    key=oracle_key,
                    suite="generators",
                    dataset=dataset,
                    split=seed,
                    model=ORACLE,
                    threads=threads,
                    n_train=len(y_train),
                    n_test=len(y_test),
                )
                cache.put(oracle)

            def gap(record, oracle=oracle):
                return {
                    "pinball19_gap": record["pinball19"] - oracle["pinball19"],
                    "crps99_gap": record["crps99"] - oracle["crps99"],
                }

            data = (X_train, y_train, X_test, y_test)
            _run_models(
                cache, "generators", dataset, seed, threads, data, classes, extra=gap
            )
    return notes


if __name__ == "__main__":
    sys.exit("Run benchmarks/run.py instead.")
