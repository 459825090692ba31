"""Run the skquantile benchmarks against the peers and write the reports.

One command runs every suite and writes Markdown tables and PNG plots::

    python benchmarks/run.py            # full protocol -> benchmarks/results/
    python benchmarks/run.py --quick    # a short run -> benchmarks/results/quick/
    python benchmarks/run.py --only uci,scaling --threads 2 --data /path/to/data

Suites: ``uci`` (the nine UCI sets), ``generators`` (the package's
generators, with the gap to the true quantiles), ``multioutput`` (Mulan sets
and generated vectors: joint model against independent marginals),
``scaling`` (fit time and peak memory against n, predict time) and
``overhead`` (estimator against a bare torch loop). Per-split results are
cached in ``<results>/raw/*.jsonl``; an interrupted run resumes where it
stopped. ``--report-only`` rebuilds the Markdown and plots from the cache.

The data folder is ``--data``, else ``$SKQUANTILE_DATA``, else
``../shared/data`` next to the repository; missing sets are skipped with a
warning that is printed and written into the tables.
"""

import argparse
import sys
import time

SUITES = ("uci", "generators", "multioutput", "scaling", "overhead")
#: The suites that score the models' predictions (the others time fits).
SCORED_SUITES = ("uci", "generators", "multioutput")


def _arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    parser.add_argument("--quick", action="store_true", help="small protocol")
    parser.add_argument("--data", default=None, help="data folder")
    parser.add_argument("--threads", type=int, default=1, help="threads per model")
    parser.add_argument(
        "--only",
        default=",".join(SUITES),
        help=f"comma-separated suites among {','.join(SUITES)}",
    )
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated model names to restrict the model suites to "
        "(uci, generators, multioutput, scaling)",
    )
    parser.add_argument(
        "--splits",
        type=int,
        default=None,
        help="at most this many splits per UCI and Mulan set, and seeds per "
        "generator (fewer than the protocol's, for a shorter run; stated in "
        "the reports)",
    )
    parser.add_argument(
        "--scaling-budget",
        type=float,
        default=None,
        help="seconds a scaling fit may be projected to take before the size "
        "is skipped (default: the protocol's)",
    )
    parser.add_argument(
        "--datasets",
        default=None,
        help="comma-separated data sets to restrict the uci and multioutput "
        "suites to (to split a long run between processes)",
    )
    parser.add_argument(
        "--from-split",
        type=int,
        default=0,
        help="skip the splits (seeds) before this index in the uci and "
        "multioutput suites, so that a second process can start in the middle "
        "of a long data set (the cache holds what each process measured)",
    )
    parser.add_argument(
        "--to-split",
        type=int,
        default=None,
        help="stop before the split (seed) of this index in the uci and "
        "multioutput suites, so that the first of two processes ends where "
        "the second (--from-split) begins",
    )
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="in the uci suite, measure again the cached results of the "
        "selected models that another machine measured (so that fit seconds "
        "compare on this machine); the newest result of a split is reported",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the reports from the cached results without running",
    )
    args = parser.parse_args()
    args.only = [suite.strip() for suite in args.only.split(",") if suite.strip()]
    unknown = set(args.only) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s) {sorted(unknown)}; choose among {SUITES}")
    if args.to_split is not None and args.to_split <= args.from_split:
        parser.error(
            f"--to-split ({args.to_split}) must be larger than --from-split "
            f"({args.from_split})"
        )
    if args.models is not None:
        args.models = [name.strip() for name in args.models.split(",")]
    if args.datasets is not None:
        from harness.data import MULTIOUTPUT_SETS, UCI_SETS

        known = [*UCI_SETS, *MULTIOUTPUT_SETS, "correlated horizons", "two targets"]
        args.datasets = [name.strip() for name in args.datasets.split(",")]
        unknown = set(args.datasets) - set(known)
        if unknown:
            parser.error(f"unknown data set(s) {sorted(unknown)}; choose among {known}")
    return args


def _complete(records, per_dataset=False):
    """The records of the models that have every split, and a note for each
    model left out.

    A model that has run on only some of the splits (an interrupted run)
    would be ranked or averaged on other test sets than the rest, so it is
    left out of the tables until a rerun completes it (the cache keeps what
    it has). By default a model needs every (data set, split) of the suite:
    a data set it lacks would drop out of every model's mean rank. With
    ``per_dataset`` (the multi-target suite, whose tuned variants run on some
    data sets only) each (model, data set) pair needs every split of that
    set, and only the incomplete pairs are left out.
    """

    def cell(record):
        return (record["model"], record["dataset"] if per_dataset else None)

    def item(record):
        return record["split"] if per_dataset else (record["dataset"], record["split"])

    cells = {}
    for record in records:
        cells.setdefault(cell(record), set()).add(item(record))
    every = {}
    for (_, dataset), done in cells.items():
        every.setdefault(dataset, set()).update(done)
    notes = []
    for (model, dataset), done in cells.items():
        if done == every[dataset]:
            continue
        if per_dataset:
            notes.append(
                f"{model} left out on {dataset}: it has {len(done)} of the "
                f"{len(every[dataset])} splits of this set; run the suite again "
                "to complete them."
            )
        else:
            notes.append(
                f"{model} left out: it has {len(done)} of the {len(every[None])} "
                "(data set, split) results of this suite; run the suite again "
                "to complete them."
            )
    kept = [r for r in records if cells[cell(r)] == every[cell(r)[1]]]
    return kept, notes


def main():
    args = _arguments()
    # Thread variables must be set before numpy and the model libraries load.
    from harness.common import pin_threads

    pin_threads(args.threads)

    import json

    from harness.common import data_dir, results_dir
    from harness.config import FULL, QUICK

    protocol = QUICK if args.quick else FULL
    protocol = protocol.shortened(args.splits, args.scaling_budget)
    folder = data_dir(args.data)
    output = results_dir(args.quick)
    raw = output / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    notes_path = raw / "notes.json"
    notes = json.loads(notes_path.read_text()) if notes_path.exists() else {}
    print(f"data: {folder}\nresults: {output}\nthreads: {args.threads}", flush=True)

    started = time.perf_counter()
    if not args.report_only:
        for suite in args.only:
            print(f"== {suite}", flush=True)
            notes[suite] = _run_suite(suite, args, protocol, folder, raw)
            notes_path.write_text(json.dumps(notes, indent=1))
            print(
                f"== {suite} done ({time.perf_counter() - started:.0f} s so far)",
                flush=True,
            )
    _write_reports(args, protocol, folder, output, notes, started)


def _run_suite(suite, args, protocol, folder, raw):
    """Run one suite into its result cache; returns the suite's notes."""
    cache = raw / f"{suite}.jsonl"
    # What restricts the suites that run split by split (uci, multioutput).
    subset = {
        "only_models": args.models,
        "only_datasets": args.datasets,
        "splits": range(args.from_split, args.to_split or sys.maxsize),
    }
    if suite == "uci":
        from harness.univariate import run_uci

        return run_uci(
            protocol, folder, args.threads, cache, remeasure=args.remeasure, **subset
        )
    if suite == "generators":
        from harness.univariate import run_generators

        return run_generators(protocol, args.threads, cache, args.models)
    if suite == "multioutput":
        from harness.multioutput import run_multioutput

        return run_multioutput(protocol, folder, args.threads, cache, **subset)
    if suite == "scaling":
        from harness.scaling import run_scaling

        return run_scaling(protocol, args.threads, cache, args.models)
    if suite != "overhead":
        raise ValueError(f"unknown suite {suite!r}")
    from harness.overhead import run_overhead

    return run_overhead(
        protocol.overhead_sizes,
        protocol.overhead_repeats,
        args.threads,
        cache,
        max_epochs=protocol.overhead_max_epochs,
    )


def _reported_records(args, protocol, raw):
    """Every suite's records that the reports show, and the protocol's model
    classes as run.

    Only the results measured with this thread count, and with the current
    configuration of each model (its settings hash ends the cache key), are
    reported: in the suites that score models, the configuration the
    protocol runs (see ``harness.models.for_protocol``); in the scaling and
    overhead runs, the defaults.
    """
    from harness.common import ResultCache, settings_hash
    from harness.models import MULTIOUTPUT, RETIRED, UNIVARIATE, for_protocol

    classes = list(dict.fromkeys(cls for cls, _ in UNIVARIATE + MULTIOUTPUT))
    as_run = for_protocol(classes, protocol)
    current = {
        "scored": {cls.name: settings_hash(cls.signature()) for cls in as_run},
        "timed": {cls.name: settings_hash(cls.signature()) for cls in classes},
    }

    def reported(record):
        model = record.get("model")
        kind = "scored" if record.get("suite") in SCORED_SUITES else "timed"
        hashes = current[kind]
        stale = model in hashes and not record["key"].endswith(hashes[model])
        # A retired variant's records were carried over to its default.
        stale = stale or model in RETIRED
        return record.get("threads") == args.threads and not stale

    records = {
        suite: list(filter(reported, ResultCache(raw / f"{suite}.jsonl").records()))
        for suite in SUITES
    }
    return records, as_run


def _write_reports(args, protocol, folder, output, notes, started):
    """Write every suite's report and the summary from the result caches."""
    from harness import report as _report
    from harness.common import machine_description

    records, as_run = _reported_records(args, protocol, output / "raw")
    report_notes = {suite: list(notes.get(suite, [])) for suite in SUITES}
    for suite in SCORED_SUITES:
        records[suite], left_out = _complete(
            records[suite], per_dataset=suite == "multioutput"
        )
        report_notes[suite] += left_out
    header = (
        machine_description(args.threads)
        + "\n\n"
        + _report.machines_section(records)
        + f"Data folder: `{folder}`.\n\nProtocol:\n\n"
        + protocol.describe()
    )
    written = []
    for suite in ("uci", "generators"):
        if records[suite]:
            text = _report.univariate_report(
                suite, records[suite], header, report_notes[suite], as_run
            )
            (output / f"{suite}.md").write_text(text)
            written.append(f"{suite}.md")
    if records["multioutput"]:
        text = _report.multioutput_report(
            records["multioutput"], header, report_notes["multioutput"], as_run
        )
        (output / "multioutput.md").write_text(text)
        written.append("multioutput.md")
    if records["scaling"]:
        plots = _report.scaling_plots(records["scaling"], output)
        text = _report.scaling_report(
            records["scaling"], header, notes.get("scaling", []), plots
        )
        (output / "scaling.md").write_text(text)
        written += ["scaling.md"] + plots
    if records["overhead"]:
        (output / "overhead.md").write_text(
            _report.overhead_report(records["overhead"], header)
        )
        written.append("overhead.md")
    every = [record for suite in SUITES for record in records[suite]]
    summary = _report.summary_report(every, header, protocol)
    (output / "summary.md").write_text(summary)
    written.append("summary.md")
    print(summary)
    print(
        f"wrote {', '.join(written)} in {output} "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
