"""Markdown tables, plots and the targets-versus-measured summary.

Everything here is computed from the cached per-split records, so a report
can be rebuilt at any time (``run.py --report-only``) and reflects every
result stored so far, including those of earlier, interrupted runs.
"""

from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from .data import UCI_SETS
from .models import (
    SKQUANTILE_NAMES,
    UNIVARIATE,
    Convex,
    ConvexWide,
    Incremental,
    LightGBM,
    QuantileForest,
)
from .scaling import median_record

IQR = Incremental.name
CONVEX = Convex.name
#: Tuned variants of the joint model in the multi-target suite.
CONVEX_TUNED = {
    cls.name: f"{cls.settings}; not a default, run by the full protocol only, "
    f"{cls.measured_with}"
    for cls in (ConvexWide,)
}

#: Machine of the results stored before each record carried its machine:
#: every report of those runs names this one.
LEGACY_MACHINE = "AMD EPYC, 2 logical cores"

# %% Aggregation


def machine_of(record):
    """The machine that measured ``record``."""
    return record.get("machine", LEGACY_MACHINE)


def machines_section(records_by_suite):
    """Markdown paragraph: which machine measured which models, per suite.

    Accuracy does not depend on the machine; times do, and are compared here
    only between results of the same machine.
    """
    used = defaultdict(lambda: defaultdict(set))
    probes = defaultdict(list)
    for suite, records in records_by_suite.items():
        for record in records:
            if "model" in record:
                used[machine_of(record)][suite].add(record["model"])
                if "speed_probe_s" in record:
                    probes[machine_of(record)].append(record["speed_probe_s"])
    if len(used) <= 1:
        only = next(iter(used), None)
        return f"Results measured on: {only}.\n\n" if only else ""
    text = (
        "Results measured on several machines (scores do not depend on the "
        "machine; seconds do, and the targets on time compare only results "
        "of one machine):\n\n"
    )
    for machine, suites in sorted(used.items()):
        parts = "; ".join(
            f"{suite}: {', '.join(sorted(models))}"
            for suite, models in sorted(suites.items())
        )
        probe = ""
        if probes[machine]:
            low, high = min(probes[machine]), max(probes[machine])
            probe = f" (speed probe {low:.3g} to {high:.3g} s)"
        text += f"- **{machine}**{probe}: {parts}\n"
    return text + "\n"


def _same_machine(records, machine):
    return [r for r in records if machine_of(r) == machine]


def _ok(records):
    return [r for r in records if "error" not in r]


def _group(records):
    """Records grouped by (dataset, model)."""
    groups = defaultdict(list)
    for record in records:
        groups[record["dataset"], record["model"]].append(record)
    return groups


def _mean(records, field):
    values = [r[field] for r in records if field in r and r[field] is not None]
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else np.nan


def _sem(records, field):
    values = np.asarray([r[field] for r in records if field in r], dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return np.nan
    return float(values.std(ddof=1) / np.sqrt(len(values)))


def _median(records, field):
    values = np.asarray([r[field] for r in records if field in r], dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else np.nan


def _fmt(value, digits=4):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def mean_se_cell(values, form=".3f", error_form=None):
    """``mean ± standard error`` of ``values`` for a table cell, in the
    format ``form`` (the error in ``error_form``, else the same); the mean
    alone for a single value."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return f"{values.mean():{form}}"
    error = values.std(ddof=1) / np.sqrt(len(values))
    return f"{values.mean():{form}} ± {error:{error_form or form}}"


def _fmt_pm(mean, sem):
    if not np.isfinite(mean):
        return "-"
    return _fmt(mean) + ("" if not np.isfinite(sem) else f" ± {_fmt(sem, 2)}")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _present(names, available):
    return [name for name in names if name in available]


def _models_in(records, order):
    seen = {r["model"] for r in records}
    ordered = [name for name in order if name in seen]
    return ordered + sorted(seen - set(ordered))


def _datasets_in(records, order=()):
    seen = {r["dataset"] for r in records}
    ordered = [name for name in order if name in seen]
    return ordered + sorted(seen - set(ordered))


MODEL_ORDER = [cls.name for cls, _ in UNIVARIATE]
GENERATOR_ORDER = ["heteroscedastic", "three peaks", "heavy tailed"]

# %% Ranks


def score_matrix(records, field, models, datasets):
    """Mean of ``field`` per (dataset, model): an array (datasets, models)."""
    groups = _group(_ok(records))
    return np.array(
        [[_mean(groups.get((d, m), []), field) for m in models] for d in datasets]
    )


def ranks(matrix):
    """Rank of each model per data set (1 = lowest score), NaN rows skipped."""
    out = np.full(matrix.shape, np.nan)
    for i, row in enumerate(matrix):
        finite = np.isfinite(row)
        if finite.all():
            out[i] = rankdata(row)
    return out


def _matrix_section(title, records, field, models, datasets, rank=True):
    matrix = score_matrix(records, field, models, datasets)
    rank_matrix = ranks(matrix) if rank else None
    rows = []
    for i, dataset in enumerate(datasets):
        cells = []
        for j in range(len(models)):
            cell = _fmt(matrix[i, j])
            if rank and np.isfinite(rank_matrix[i, j]):
                cell += f" ({rank_matrix[i, j]:g})"
            cells.append(cell)
        rows.append([dataset] + cells)
    if rank:
        complete = np.isfinite(rank_matrix).all(axis=1)
        mean_rank = rank_matrix[complete].mean(axis=0) if complete.any() else None
        rows.append(
            [f"**mean rank** ({complete.sum()} sets)"]
            + [
                "-" if mean_rank is None else f"**{value:.2f}**"
                for value in (mean_rank if mean_rank is not None else models)
            ]
        )
    return f"### {title}\n\n" + _table(["data"] + models, rows) + "\n"


# %% Univariate suites

_DETAIL = [
    "model",
    "pinball19",
    "CRPS99",
    "pinball 0.05",
    "pinball 0.5",
    "pinball 0.95",
    "calibration",
    "cov90",
    "width90",
    "crossing",
    "fit s",
    "predict s (levels)",
    "size MB",
    "splits",
]


def _detail_rows(groups, dataset, models, gap=False):
    rows = []
    for model in models:
        if (dataset, model) not in groups:
            continue
        recs = _ok(groups.get((dataset, model), []))
        failed = len(groups.get((dataset, model), [])) - len(recs)
        if not recs:
            rows.append([model] + ["-"] * (len(_DETAIL) - 2) + [f"0 ({failed} failed)"])
            continue
        levels = recs[0].get("predict_levels")
        row = [
            model,
            _fmt_pm(_mean(recs, "pinball19"), _sem(recs, "pinball19")),
            _fmt(_mean(recs, "crps99")),
            _fmt(_mean(recs, "pinball05")),
            _fmt(_mean(recs, "pinball50")),
            _fmt(_mean(recs, "pinball95")),
            _fmt(_mean(recs, "calibration"), 3),
            _fmt(_mean(recs, "coverage90"), 3),
            _fmt(_mean(recs, "width90")),
            f"{_mean(recs, 'crossing'):.3g} ({int(recs[0]['crossing_grid'])})",
            _fmt(_median(recs, "fit_seconds"), 3),
            "-"
            if levels is None
            else f"{_fmt(_median(recs, 'predict_seconds'), 3)} ({levels})",
            _fmt(_median(recs, "size_mb"), 3),
            f"{len(recs)}" + (f" ({failed} failed)" if failed else ""),
        ]
        if gap:
            row.insert(2, _fmt(_mean(recs, "pinball19_gap")))
            row.insert(4, _fmt(_mean(recs, "crps99_gap")))
        rows.append(row)
    return rows


def _settings_section(classes):
    lines = [f"- **{cls.name}**: {cls.settings}" for cls in classes]
    return "Model settings:\n\n" + "\n".join(lines) + "\n"


def _notes_section(notes):
    if not notes:
        return ""
    return "\n".join(f"> **Warning**: {note}" for note in notes) + "\n\n"


_LEGEND = (
    "pinball19: mean pinball loss over the 19 levels 0.05, ..., 0.95 (every "
    "model; twice it is the CRPS restricted to [0.05, 0.95]), mean ± standard "
    "error over splits. CRPS99: CRPS from the 99 midpoint levels, only for "
    "models with a whole quantile function. calibration: mean |share below "
    "Q(a) - a| over the 19 levels. cov90/width90: the interval [Q(0.05), "
    "Q(0.95)]. crossing: share of adjacent level pairs that cross, on the grid "
    "in brackets. fit s, predict s: medians over splits (predict: median of 3 "
    "runs predicting the test rows at the levels in brackets). size MB: the "
    "fitted model pickled.\n"
)


def calibration_noise_floor(n_test):
    """Expected calibration error of a perfectly calibrated model on ``n_test``
    rows: the mean over the 19 levels of E|B/n - a| with B ~ Binomial(n, a).

    Sampling alone puts the calibration error of a split near this value, so
    it is the floor against which a set's figure should be read.
    """
    from scipy.stats import binom

    counts = np.arange(n_test + 1)
    levels = np.arange(1, 20) / 20
    return float(
        np.mean(
            [
                np.sum(binom.pmf(counts, n_test, a) * np.abs(counts / n_test - a))
                for a in levels
            ]
        )
    )


def _median_n_test(records, dataset):
    return int(np.median([r["n_test"] for r in records if r["dataset"] == dataset]))


def _noise_floor_section(records, datasets):
    rows = []
    for dataset in datasets:
        n_test = _median_n_test(records, dataset)
        rows.append([dataset, str(n_test), _fmt(calibration_noise_floor(n_test), 3)])
    return (
        "Sampling noise: a perfectly calibrated model scores about this much on "
        "a split with this many test rows (mean over the 19 levels of "
        "E|B/n - a|, B ~ Binomial(n, a)); figures near it are as good as the "
        "split can show.\n\n"
        + _table(["data", "test rows", "noise floor"], rows)
        + "\n"
    )


def univariate_report(suite, records, header, notes, classes=None):
    """Markdown of the UCI or generator suite; ``classes`` are the model
    classes as the run fitted them (by default the registry's)."""
    if classes is None:
        classes = [cls for cls, _ in UNIVARIATE]
    records = [r for r in records if r.get("suite") == suite]
    order = list(UCI_SETS) if suite == "uci" else GENERATOR_ORDER
    datasets = _datasets_in(records, order)
    oracle = [m for m in _models_in(records, []) if m.startswith("oracle")]
    models = [m for m in _models_in(records, MODEL_ORDER) if m not in oracle]
    title = "UCI suite" if suite == "uci" else "Generators of skquantile.datasets"
    text = f"# {title}\n\n{header}\n\n" + _notes_section(notes)
    text += _settings_section([cls for cls in classes if cls.name in models])
    text += "\n" + _LEGEND + "\n## Overview\n\n"
    text += _matrix_section(
        "Mean pinball loss, 19 levels (rank among all models)",
        records,
        "pinball19",
        models,
        datasets,
    )
    full = [
        m
        for m in models
        if any(np.isfinite(r.get("crps99", np.nan)) for r in records if r["model"] == m)
    ]
    text += _matrix_section(
        "CRPS, 99 midpoint levels (rank among models with a whole quantile function)",
        records,
        "crps99",
        full,
        datasets,
    )
    text += _matrix_section(
        "Calibration error, 19 levels", records, "calibration", models, datasets, False
    )
    text += _noise_floor_section(records, datasets)
    text += _matrix_section(
        "Coverage of the 90% interval", records, "coverage90", models, datasets, False
    )
    groups = _group(records)
    rows = [
        [d]
        + [_fmt(_median(_ok(groups.get((d, m), [])), "fit_seconds"), 3) for m in models]
        for d in datasets
    ]
    text += "### Fit seconds (median over splits)\n\n"
    machines = {m: {machine_of(r) for r in records if r["model"] == m} for m in models}
    if len(set().union(*machines.values())) > 1:
        text += (
            "Measured on different machines: "
            + "; ".join(f"{m} on {', '.join(sorted(v))}" for m, v in machines.items())
            + ". Compare seconds only between models of one machine.\n\n"
        )
    text += _table(["data"] + models, rows)
    text += "\n## Details per data set\n\n"
    gap = suite == "generators"
    columns = list(_DETAIL)
    if gap:
        columns.insert(2, "pinball19 gap to oracle")
        columns.insert(4, "CRPS99 gap to oracle")
    for dataset in datasets:
        n_train = max(r["n_train"] for r in records if r["dataset"] == dataset)
        n_test = max(r["n_test"] for r in records if r["dataset"] == dataset)
        text += f"### {dataset} ({n_train} training / {n_test} test rows)\n\n"
        text += _table(columns, _detail_rows(groups, dataset, models + oracle, gap))
        text += "\n"
    return text


# %% Multi-target suite


def _joint_verdict(joint_records, independent_records):
    """Whether a joint model's mean energy score is below the independent
    model's, on the splits both were measured on (the report keeps only
    models with every split of a set, so these are all of them)."""
    joint = {r["split"]: r["energy"] for r in _ok(joint_records)}
    independent = {r["split"]: r["energy"] for r in _ok(independent_records)}
    common = sorted(set(joint) & set(independent))
    if not common:
        return "-"
    better = np.mean([joint[s] for s in common]) < np.mean(
        [independent[s] for s in common]
    )
    return "yes" if better else "**no**"


def multioutput_report(records, header, notes, classes=None):
    """Markdown of the multi-target suite; ``classes`` are the model classes
    as the run fitted them (by default the defaults)."""
    settings = {cls.name: cls.settings for cls in classes or (Convex, Incremental)}
    records = [r for r in records if r.get("suite") == "multioutput"]
    datasets = _datasets_in(records, ["enb", "jura", "scpf", "slump"])
    models = _models_in(records, [CONVEX, *CONVEX_TUNED, IQR])
    tuned = [m for m in CONVEX_TUNED if m in models]
    groups = _group(records)
    text = f"# Multi-target suite\n\n{header}\n\n" + _notes_section(notes)
    text += _multioutput_models(settings, tuned)
    text += "## Energy score (lower is better)\n\n"
    text += _multioutput_energy_table(datasets, models, tuned, groups) + "\n"
    text += "## Details per data set\n\n"
    for dataset in datasets:
        text += _multioutput_details(records, dataset, models, groups)
    return text


def _multioutput_models(settings, tuned):
    """The paragraphs naming the multi-target suite's models and scores."""
    return (
        f"Models: **{CONVEX}** (joint law; {settings[CONVEX]}) "
        + "".join(
            f"and the tuned variant **{name}** ({CONVEX_TUNED[name]}) "
            for name in tuned
        )
        + f"against **{IQR}** on the same 2-d target ({settings[IQR]}): "
        "one quantile function per target, so its joint draws have independent "
        "marginals. Joint region of the independent model: the box of central "
        "marginal intervals of coverage 0.9^(1/d) each, whose product of "
        "coverages is 0.9. Oracle rows: the true law of the generated sets.\n\n"
        "energy: energy score (beta = 1); variogram: variogram score (order "
        "0.5); CRPS per target: sample CRPS of each target from the same draws; "
        "joint cov90: share of test vectors inside the 90% joint region. Means "
        "± standard error over splits; seconds are medians.\n\n"
    )


def _multioutput_energy_table(datasets, models, tuned, groups):
    """The energy score of every model per data set, with the verdict of
    each joint model against the independent marginals."""
    joints = [m for m in (CONVEX, *tuned) if m in models]
    rows = []
    for dataset in datasets:
        cells = [
            _fmt_pm(
                _mean(_ok(groups.get((dataset, m), [])), "energy"),
                _sem(_ok(groups.get((dataset, m), [])), "energy"),
            )
            for m in models
        ]
        verdicts = [
            _joint_verdict(
                groups.get((dataset, joint), []), groups.get((dataset, IQR), [])
            )
            for joint in joints
        ]
        rows.append([dataset] + cells + verdicts)
    verdict_names = {CONVEX: "joint model better?"}
    for number, name in enumerate(tuned, start=1):
        verdict_names[name] = f"tuned variant {number} better?"
    header_row = ["data"] + models + [verdict_names[m] for m in joints]
    return _table(header_row, rows)


_MULTIOUTPUT_DETAIL_COLUMNS = [
    "model",
    "energy",
    "variogram",
    "CRPS per target",
    "mean CRPS",
    "joint cov90",
    "fit s",
    "sample s",
    "size MB",
    "splits",
]


def _multioutput_details(records, dataset, models, groups):
    """The section of one data set: every score of every model."""
    subset = [r for r in records if r["dataset"] == dataset]
    text = (
        f"### {dataset} ({max(r['n_train'] for r in subset)} training / "
        f"{max(r['n_test'] for r in subset)} test rows, "
        f"{subset[0]['n_targets']} targets)\n\n"
    )
    rows = []
    for model in models:
        if (dataset, model) not in groups:
            continue
        recs = _ok(groups[dataset, model])
        failed = len(groups[dataset, model]) - len(recs)
        if not recs:
            rows.append([model] + ["-"] * 8 + [f"0 ({failed} failed)"])
            continue
        per_target = np.mean([r["crps_per_target"] for r in recs], axis=0)
        rows.append(
            [
                model,
                _fmt_pm(_mean(recs, "energy"), _sem(recs, "energy")),
                _fmt(_mean(recs, "variogram")),
                ", ".join(_fmt(v, 3) for v in per_target),
                _fmt(_mean(recs, "crps_mean")),
                _fmt(_mean(recs, "joint_coverage90"), 3),
                _fmt(_median(recs, "fit_seconds"), 3),
                _fmt(_median(recs, "sample_seconds"), 3),
                _fmt(_median(recs, "size_mb"), 3),
                f"{len(recs)}" + (f" ({failed} failed)" if failed else ""),
            ]
        )
    return text + _table(_MULTIOUTPUT_DETAIL_COLUMNS, rows) + "\n"


# %% Scaling


def _scaling_by_model(records):
    """Per model, one record per size, ordered by n: the median of the
    repeats of that size (:func:`_scaling.median_record`). Repeats measured
    on different machines are not mixed: the machine with the most repeats
    of the point stands for it."""
    points = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record.get("suite") == "scaling":
            where = (record["model"], record["n"])
            points[where][machine_of(record)].append(record)
    by_model = defaultdict(list)
    for (model, _), by_machine in points.items():
        repeats = max(by_machine.values(), key=len)
        by_model[model].append(median_record(repeats))
    for model in by_model:
        by_model[model].sort(key=lambda r: r["n"])
    return by_model


def scaling_report(records, header, notes, plots):
    """Markdown of the scaling runs (and the plots it shows)."""
    by_model = _scaling_by_model(records)
    models = _models_in([r for rs in by_model.values() for r in rs], MODEL_ORDER)
    text = f"# Scaling\n\n{header}\n\n" + _notes_section(notes)
    text += (
        "Synthetic data: `make_heteroscedastic(n, n_features=20)`. Each point "
        "runs in a fresh Python process (`harness/scaling_worker.py`): a warm-up fit "
        "on 300 rows, then the data, then the timed fit. *peak MB* is the peak "
        "resident memory of that process up to the end of the fit "
        "(`VmHWM` of `/proc/self/status`, the high-water mark of the worker's "
        "own address space; not `ru_maxrss`, which on Linux inherits the "
        "parent's size across fork and exec), nothing subtracted; *before fit "
        "MB* is the same peak just before the fit (interpreter, libraries, "
        "warm-up, data), shown for reference. Larger sizes are skipped when "
        "the previous one projects (linearly in n) a fit over the time budget "
        "or a peak over 60% of the RAM.\n\n"
    )
    for name in plots:
        text += f"![{name}]({name})\n\n"
    rows = []
    for model in models:
        for r in by_model[model]:
            ok = r["status"] == "ok"
            rows.append(
                [
                    model,
                    r["n"],
                    _fmt(r["fit_seconds"], 3) if ok else r.get("reason", r["status"]),
                    _repeats(r) if ok else "-",
                    _fmt(r["peak_rss_mb"], 4) if ok else "-",
                    _fmt(r["baseline_rss_mb"], 4) if ok else "-",
                    machine_of(r),
                ]
            )
    text += "## Fit time and peak memory\n\n"
    text += (
        "*fit s* is the median over the repeats and *peak MB* the largest "
        "peak; *repeats* gives their number and the range of their fit "
        "seconds.\n\n"
    )
    text += _table(
        ["model", "n", "fit s", "repeats", "peak MB", "before fit MB", "machine"],
        rows,
    )
    rows = []
    for model in models:
        for r in by_model[model]:
            if r["status"] == "ok" and "predict_seconds" in r:
                rows.append(
                    [
                        model,
                        r["n"],
                        r["predict_rows"],
                        r["predict_levels"],
                        _fmt(r["predict_seconds"], 3),
                    ]
                )
    text += "\n## Predict time\n\n"
    text += _table(
        ["model", "fitted on n", "rows predicted", "levels", "predict s"], rows
    )
    return text


def _repeats(record):
    """``3 (6.6-8.1 s)``: the number of repeats and the range of their fits."""
    each = record.get("fit_seconds_each")
    if not each or len(each) == 1:
        return "1"
    return f"{len(each)} ({_fmt(min(each), 3)}-{_fmt(max(each), 3)} s)"


def scaling_plots(records, folder):
    """Write the scaling and predict-time plots; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_model = _scaling_by_model(records)
    models = _models_in([r for rs in by_model.values() for r in rs], MODEL_ORDER)
    if not models:
        return []
    names = []
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for model in models:
        ok = [r for r in by_model[model] if r["status"] == "ok"]
        if not ok:
            continue
        style = "-o" if model in SKQUANTILE_NAMES else "--s"
        n = [r["n"] for r in ok]
        axes[0].plot(n, [r["fit_seconds"] for r in ok], style, label=model)
        axes[1].plot(n, [r["peak_rss_mb"] / 1e3 for r in ok], style, label=model)
    axes[0].axhline(600, color="grey", lw=0.8, ls=":", label="10 min")
    axes[1].axhline(4, color="grey", lw=0.8, ls=":", label="4 GB")
    axes[0].set_yscale("log")
    axes[1].set_ylim(bottom=0)
    for axis, label in zip(axes, ["fit seconds", "peak memory (GB)"], strict=True):
        axis.set_xscale("log")
        axis.set_xlabel("training rows (20 features)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle("Fit time and peak memory against n")
    figure.tight_layout()
    figure.savefig(Path(folder) / "scaling.png", dpi=110)
    plt.close(figure)
    names.append("scaling.png")

    predict = [
        r
        for model in models
        for r in by_model[model]
        if r["status"] == "ok" and "predict_seconds" in r
    ]
    if predict:
        figure, axis = plt.subplots(figsize=(8, 0.5 * len(predict) + 1.5))
        labels = [f"{r['model']} ({r['predict_levels']} levels)" for r in predict]
        colours = ["C1" if r["model"] in SKQUANTILE_NAMES else "C0" for r in predict]
        axis.barh(labels, [r["predict_seconds"] for r in predict], color=colours)
        axis.axvline(1.0, color="grey", lw=0.8, ls=":", label="1 s")
        axis.legend(fontsize=8)
        axis.set_xscale("log")
        axis.invert_yaxis()
        axis.set_xlabel(
            f"seconds to predict {predict[0]['predict_rows']} rows "
            f"(models fitted on {predict[0]['n']} rows)"
        )
        figure.tight_layout()
        figure.savefig(Path(folder) / "predict_time.png", dpi=110)
        plt.close(figure)
        names.append("predict_time.png")
    return names


# %% Overhead


def overhead_report(records, header):
    """Markdown of the training-overhead measurement."""
    from .overhead import __doc__ as method
    from .overhead import markdown

    records = [r for r in records if r.get("suite") == "overhead"]
    intro = method.split("Run alone")[0].strip()
    return f"# Training overhead\n\n{header}\n\n{intro}\n\n" + markdown(records)


# %% Summary


def _status(met):
    if met is None:
        return "not judged"
    return "**met**" if met else "**missed**"


def _uci_context(records):
    """The UCI records, models, sets and peers of a run, and how many of the
    nine sets it lacks (a target on the nine sets is judged only on all
    nine, unless the sets measured already decide it)."""
    uci = _ok([r for r in records if r.get("suite") == "uci"])
    models = [m for m in _models_in(uci, MODEL_ORDER)]
    datasets = _datasets_in(uci, list(UCI_SETS))
    peers = [m for m in models if m not in SKQUANTILE_NAMES]
    return uci, models, datasets, peers, len(UCI_SETS) - len(datasets)


def _rank_targets(uci, models, datasets, missing_sets):
    """Best mean rank and wins against the best peer, by pinball19 (all
    models) and by CRPS99 (models with a whole quantile function)."""
    targets = []
    n_sets = len(datasets)
    on_sets = (
        f" (measured on {n_sets} of the {len(UCI_SETS)} sets: not judged)"
        if missing_sets
        else ""
    )
    for field, label, subset in [
        ("pinball19", "19-level pinball (all models)", models),
        (
            "crps99",
            "99-level CRPS (models with a whole quantile function)",
            [
                m
                for m in models
                if any(np.isfinite(r["crps99"]) for r in uci if r["model"] == m)
            ],
        ),
    ]:
        matrix = score_matrix(uci, field, subset, datasets)
        rank_matrix = ranks(matrix)
        complete = np.isfinite(rank_matrix).all(axis=1)
        if not complete.any():
            continue
        mean_rank = dict(zip(subset, rank_matrix[complete].mean(axis=0), strict=True))
        best_other = min(v for m, v in mean_rank.items() if m != IQR)
        ranks_text = ", ".join(
            f"{m} {v:.2f}" for m, v in sorted(mean_rank.items(), key=lambda kv: kv[1])
        )
        tied = [
            m
            for m, v in mean_rank.items()
            if m != IQR and np.isclose(v, mean_rank[IQR])
        ]
        targets.append(
            (
                f"{IQR} has the best mean rank by {label} across the UCI sets",
                # A tie is not "the best": met only strictly below the others.
                None if missing_sets else mean_rank[IQR] < best_other and not tied,
                f"mean ranks over {complete.sum()} sets: {ranks_text}"
                + (f" (tied with {', '.join(tied)})" if tied else "")
                + on_sets,
            )
        )
        subset_peers = [m for m in subset if m not in SKQUANTILE_NAMES]
        iqr = matrix[:, subset.index(IQR)]
        best_peer = np.nanmin(matrix[:, [subset.index(m) for m in subset_peers]], 1)
        wins = [d for d, a, b in zip(datasets, iqr, best_peer, strict=True) if a < b]
        decided = len(wins) >= 6 or len(wins) + missing_sets < 6
        targets.append(
            (
                f"{IQR} beats the best peer's {label} on at least 6 of 9 UCI sets",
                len(wins) >= 6 if decided else None,
                f"{len(wins)} of {n_sets} ({', '.join(wins) or 'none'}); per set "
                "IQR / best peer: "
                + ", ".join(
                    f"{d} {_fmt(a, 3)}/{_fmt(b, 3)}"
                    for d, a, b in zip(datasets, iqr, best_peer, strict=True)
                ),
            )
        )
    return targets


def _calibration_target(uci, datasets, missing_sets):
    """Calibration error at most 0.03 on every UCI set."""
    n_sets = len(datasets)
    calibration = score_matrix(uci, "calibration", [IQR], datasets)[:, 0]
    bad = [
        f"{d} {c:.3f}"
        for d, c in zip(datasets, calibration, strict=True)
        if not c <= 0.03
    ]
    return (
        f"{IQR} calibration error <= 0.03 on every UCI set",
        None if not bad and missing_sets else not bad and n_sets > 0,
        f"worst {np.nanmax(calibration):.3f}; over 0.03: {', '.join(bad) or 'none'}"
        f" ({n_sets} sets). Noise floor of a perfectly calibrated model on "
        "one split: "
        + ", ".join(
            f"{d} {calibration_noise_floor(_median_n_test(uci, d)):.3f}"
            for d in datasets
        ),
    )


def _crossing_targets(records):
    """No quantile crossing on any UCI or generator split."""
    targets = []
    univariate = _ok([r for r in records if r.get("suite") in ("uci", "generators")])
    for name in SKQUANTILE_NAMES:
        recs = [r for r in univariate if r["model"] == name]
        if recs:
            worst = max(r["crossing"] for r in recs)
            targets.append(
                (
                    f"{name} crossing rate exactly 0 (99 levels, every UCI and "
                    "generator split)",
                    worst == 0.0,
                    f"largest crossing rate {worst:.3g} over {len(recs)} fits",
                )
            )
    return targets


def _uci_time_target(uci, datasets, protocol):
    """Fit time at most that of the 19 LightGBM models on the UCI sets."""
    # Seconds compare only on one machine: the IQR's, per data set.
    medians = []
    for d in datasets:
        mine = [r for r in uci if r["dataset"] == d and r["model"] == IQR]
        theirs = _same_machine(
            [r for r in uci if r["dataset"] == d and r["model"] == LightGBM.name],
            machine_of(mine[0]),
        )
        medians.append(
            (d, _median(mine, "fit_seconds"), _median(theirs, "fit_seconds"))
        )
    compared = [(d, a, b) for d, a, b in medians if np.isfinite(b)]
    unmatched = [d for d, _, b in medians if not np.isfinite(b)]
    return (
        f"fitting {IQR} costs at most the 19 LightGBM models (UCI sets)",
        # Fits with a capped training budget do not time the defaults.
        (all(a <= b for _, a, b in compared) and not unmatched)
        if compared and not protocol.skquantile_params
        else None,
        "IQR/LightGBM median fit seconds (same machine"
        + (
            ", the IQR's training capped by the protocol"
            if protocol.skquantile_params
            else ""
        )
        + "): "
        + (", ".join(f"{d} {a:.2f}/{b:.2f}" for d, a, b in compared) or "none")
        + (
            f"; LightGBM not measured on the IQR's machine for {', '.join(unmatched)}"
            if unmatched
            else ""
        ),
    )


def _scaling_time_targets(by_model):
    """Fit time at most that of the 19 LightGBM models in the scaling runs."""
    lgbm_scaling = {
        (r["n"], machine_of(r)): r
        for r in by_model.get(LightGBM.name, [])
        if r["status"] == "ok"
    }
    pairs = [
        (r, lgbm_scaling[r["n"], machine_of(r)])
        for r in by_model.get(IQR, [])
        if r["status"] == "ok" and (r["n"], machine_of(r)) in lgbm_scaling
    ]
    if not pairs:
        return []
    return [
        (
            f"fitting {IQR} costs at most the 19 LightGBM models (scaling runs)",
            all(a["fit_seconds"] <= b["fit_seconds"] for a, b in pairs),
            ", ".join(
                f"n={a['n']}: {a['fit_seconds']:.1f}/{b['fit_seconds']:.1f} s"
                + (
                    f" (median of {a['repeats']})"
                    if a["repeats"] > 1 and a["repeats"] == b["repeats"]
                    else ""
                )
                for a, b in pairs
            )
            + " (same machine)",
        )
    ]


def _predict_targets(by_model):
    """Predicting 99 levels for 1e5 rows in under a second, faster than the
    quantile forest."""
    predict = {
        m: r
        for m, rs in by_model.items()
        for r in rs
        if r["status"] == "ok" and "predict_seconds" in r
    }
    if IQR not in predict:
        return []
    mine = predict[IQR]
    forest = predict.get(QuantileForest.name)
    if forest is not None and machine_of(forest) != machine_of(mine):
        forest = None  # a time from another machine does not compare
    # Not measuring the forest leaves the comparison, and the target, open.
    met = mine["predict_seconds"] < 1.0 and (
        forest is not None and mine["predict_seconds"] < forest["predict_seconds"]
    )
    return [
        (
            f"{IQR} predicts 99 levels for 1e5 rows in < 1 s and faster than the "
            "quantile forest",
            met if mine["predict_rows"] >= 100_000 else None,
            f"{mine['predict_seconds']:.3f} s for {mine['predict_rows']} rows "
            f"(fitted on {mine['n']}); quantile forest "
            + (
                "not measured"
                if forest is None
                else f"{forest['predict_seconds']:.3f} s ({forest['predict_levels']} "
                "levels)"
            ),
        )
    ]


def _overhead_targets(records):
    """Training overhead over a bare torch loop at most 20%."""
    overhead = [r for r in records if r.get("suite") == "overhead"]
    if not overhead:
        return []
    return [
        (
            "training overhead over a bare torch loop <= 20%",
            all(r["overhead"] <= 0.20 for r in overhead),
            ", ".join(
                f"n={r['n']}: {r['overhead']:+.1%} ({r['estimator_seconds']:.2f} s "
                f"vs {r['bare_seconds']:.2f} s)"
                for r in sorted(overhead, key=lambda r: r["n"])
            ),
        )
    ]


def _large_fit_targets(by_model):
    """1e6 rows x 20 features in under 10 minutes and 4 GB."""
    target = "1e6 rows x 20 features trains in < 10 min with peak memory < 4 GB"
    big = [r for r in by_model.get(IQR, []) if r["n"] >= 1_000_000]
    if big and big[-1]["status"] == "ok":
        r = big[-1]
        return [
            (
                target,
                r["fit_seconds"] < 600 and r["peak_rss_mb"] < 4000,
                f"{r['fit_seconds']:.0f} s, peak {r['peak_rss_mb']:.0f} MB",
            )
        ]
    iqr_scaling = [r for r in by_model.get(IQR, []) if r["status"] == "ok"]
    if not iqr_scaling:
        return []
    # No extrapolation from small sizes: the epoch budget is about 8000
    # optimiser steps, so a fit's cost grows far slower than n up to 1e5
    # rows, and a line through small fits would mislead.
    r = iqr_scaling[-1]
    return [
        (
            target,
            None,
            f"largest measured n={r['n']}: {r['fit_seconds']:.1f} s, peak "
            f"{r['peak_rss_mb']:.0f} MB; 1e6 rows not measured by this run",
        )
    ]


def _joint_targets(records):
    """A better energy score than the independent marginals on every
    multi-target set."""
    multi = _ok([r for r in records if r.get("suite") == "multioutput"])
    groups = _group(multi)
    mulan = ["enb", "jura", "scpf", "slump"]
    sets = _datasets_in(multi, mulan)
    not_run = [d for d in mulan if d not in sets]
    verdicts, unmeasured = [], []
    for d in sets:
        convex = _mean(groups.get((d, CONVEX), []), "energy")
        independent = _mean(groups.get((d, IQR), []), "energy")
        if np.isfinite(convex) and np.isfinite(independent):
            verdicts.append((d, convex, independent))
        else:
            unmeasured.append(d)
    if not verdicts:
        return []
    met = all(c < i for _, c, i in verdicts)
    return [
        (
            f"{CONVEX} has a better energy score than the independent marginals "
            "on every multi-target set",
            # A set without both models (left out of the tables until its
            # splits are complete) leaves the target open unless it is missed.
            None if met and (unmeasured or not_run) else met,
            "convex/independent: "
            + ", ".join(
                f"{d} {_fmt(c, 4)}/{_fmt(i, 4)}{'' if c < i else ' (missed)'}"
                for d, c, i in verdicts
            )
            + (
                f"; not compared on {', '.join(unmeasured)} (splits incomplete)"
                if unmeasured
                else ""
            )
            + (f"; not run on {', '.join(not_run)}" if not_run else ""),
        )
    ]


def summary_report(records, header, protocol):
    """The targets-versus-measured list, from every cached record of a run
    of ``protocol``."""
    uci, models, datasets, peers, missing_sets = _uci_context(records)
    targets = []
    if IQR in models and peers:
        targets += _rank_targets(uci, models, datasets, missing_sets)
    if IQR in models:
        targets.append(_calibration_target(uci, datasets, missing_sets))
    targets += _crossing_targets(records)
    if IQR in models and LightGBM.name in models:
        targets.append(_uci_time_target(uci, datasets, protocol))
    by_model = _scaling_by_model(records)
    targets += _scaling_time_targets(by_model)
    targets += _predict_targets(by_model)
    targets += _overhead_targets(records)
    targets += _large_fit_targets(by_model)
    targets += _joint_targets(records)
    lines = [
        f"- {_status(met)}: {target}  \n  measured: {measured}"
        for target, met, measured in targets
    ]
    mode = "quick" if protocol.quick else "full"
    return (
        f"# Targets against measurements ({mode} run)\n\n{header}\n\n"
        + (
            "Quick mode: a smoke run of every suite and model on a few data "
            "sets, one split each, small data, the skquantile estimators "
            "trained for a fraction of their default budget, and small "
            "scaling runs; read these as indications, not as the verdict of "
            "the full protocol.\n\n"
            if protocol.quick
            else ""
        )
        + "\n".join(lines)
        + "\n"
    )
