"""Sizes of the full and the quick protocol."""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Protocol:
    """Every size a run depends on; ``quick`` selects the small variant.

    ``None`` for ``uci_splits`` means the published number of splits of each
    set (20, and 5 for protein). Scaling sizes up to ``scaling_repeat_up_to``
    rows are fitted ``scaling_repeats`` times, in rounds that go through every
    model before the next round starts, so that a slower hour of the machine
    falls on every model alike; their fits last seconds, and one of them
    varies by a third from run to run. Larger sizes take minutes per fit and
    are fitted once.

    ``datasets`` names the data sets the suites run (UCI sets, generators,
    multi-target sets; ``None``: all of them) and ``scaling_models`` the
    models of the scaling runs (``None``: all).
    ``skquantile_params`` are set on both skquantile estimators, on top of
    their defaults, in the UCI, generator and multi-target suites (the
    quick protocol caps their training there; the scaling runs, which time
    fits against the peers, always fit the defaults). ``overhead_max_epochs``
    caps the epochs of the overhead measurement (``None``: the estimator's
    own budget); the overhead is a ratio of two loops over the same epochs,
    so fewer epochs measure the same thing, with the fixed costs of a fit
    weighing a little more.
    """

    quick: bool
    uci_splits: int | None
    uci_max_train: int | None
    uci_max_test: int | None
    generator_seeds: int
    generator_train: int
    generator_test: int
    multioutput_splits: int
    multioutput_generator_train: int
    multioutput_generator_test: int
    n_draws: int
    scaling_sizes: tuple
    scaling_predict_train: int
    scaling_predict_rows: int
    scaling_budget_seconds: float
    scaling_repeats: int
    scaling_repeat_up_to: int
    overhead_sizes: tuple
    overhead_repeats: int
    datasets: tuple | None = None
    scaling_models: tuple | None = None
    skquantile_params: tuple = ()
    overhead_max_epochs: int | None = None

    def runs(self, dataset):
        """Whether the protocol runs the data set of this name."""
        return self.datasets is None or dataset in self.datasets

    def shortened(self, splits=None, scaling_budget=None):
        """This protocol with at most ``splits`` splits (or generator seeds)
        and the given scaling budget; ``None`` keeps a size as it is."""
        changes = {}
        if splits is not None:
            if splits < 1:
                raise ValueError(f"--splits must be at least 1, got {splits}.")
            published = 20 if self.uci_splits is None else self.uci_splits
            changes.update(
                uci_splits=min(splits, published),
                generator_seeds=min(splits, self.generator_seeds),
                multioutput_splits=min(splits, self.multioutput_splits),
            )
        if scaling_budget is not None:
            changes["scaling_budget_seconds"] = float(scaling_budget)
        return replace(self, **changes)

    def describe(self):
        """A Markdown list of the protocol sizes."""
        splits = (
            "published (20; 5 for protein)"
            if self.uci_splits is None
            else f"{self.uci_splits} (the published protocol has 20, and 5 "
            "for protein; a set gets the smaller number)"
        )
        cap = (
            ""
            if self.uci_max_train is None
            else f", training rows capped at {self.uci_max_train} and test rows "
            f"at {self.uci_max_test} (seeded random subsets)"
        )
        repeats = (
            f"{self.scaling_repeats} interleaved repeats (median time) up to "
            f"n = {self.scaling_repeat_up_to}, one fit above"
            if self.scaling_repeats > 1
            else "one fit per size"
        )
        params = (
            ""
            if not self.skquantile_params
            else "- the skquantile estimators in the UCI, generator and "
            "multi-target suites: "
            + ", ".join(f"`{name}={value!r}`" for name, value in self.skquantile_params)
            + " on top of their defaults (a capped training budget: these "
            "scores understate the defaults'); the scaling runs fit the defaults\n"
        )
        sets = (
            ""
            if self.datasets is None
            else f"- data sets (of every suite, only these): "
            f"{', '.join(self.datasets)}\n"
        )
        scaling_models = (
            ""
            if self.scaling_models is None
            else f"; models: {', '.join(self.scaling_models)}"
        )
        overhead_epochs = (
            ""
            if self.overhead_max_epochs is None
            else f", {self.overhead_max_epochs} epochs"
        )
        return (
            f"- mode: {'quick' if self.quick else 'full'}\n{sets}"
            f"- UCI: standard 90/10 splits, number of splits {splits}{cap}\n"
            f"- generators: {_count(self.generator_seeds, 'seed')}, "
            f"{self.generator_train} "
            f"training and {self.generator_test} test rows\n"
            f"- multi-target: {_count(self.multioutput_splits, 'standard split')} "
            "of each "
            f"Mulan set; generators {self.multioutput_generator_train} training "
            f"and {self.multioutput_generator_test} test rows; {self.n_draws} "
            "joint draws per test row\n"
            f"- scaling: n in {list(self.scaling_sizes)} (20 features), budget "
            f"{self.scaling_budget_seconds:.0f} s per fit; predict time on "
            f"{self.scaling_predict_rows} rows after fitting on "
            f"{self.scaling_predict_train}; {repeats}{scaling_models}\n"
            f"- overhead: n in {list(self.overhead_sizes)}, "
            f"{self.overhead_repeats} repeats{overhead_epochs}\n" + params
        )


def _count(n, noun):
    """``n`` and the noun, in the plural unless ``n`` is 1."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


FULL = Protocol(
    quick=False,
    uci_splits=None,
    uci_max_train=None,
    uci_max_test=None,
    generator_seeds=5,
    generator_train=5000,
    generator_test=5000,
    multioutput_splits=20,
    multioutput_generator_train=3000,
    multioutput_generator_test=2000,
    n_draws=200,
    scaling_sizes=(1_000, 10_000, 100_000, 1_000_000),
    scaling_predict_train=100_000,
    scaling_predict_rows=100_000,
    scaling_budget_seconds=1800.0,
    scaling_repeats=3,
    scaling_repeat_up_to=10_000,
    overhead_sizes=(10_000, 100_000),
    overhead_repeats=3,
)

#: A smoke run of every suite and model in a few minutes: three UCI sets,
#: one generator, two Mulan sets and one generated multi-target set, one
#: split or seed each, small data; the skquantile estimators trained for 40
#: epochs in the suites that score them (about 320 optimiser steps on small
#: data, against the defaults' 8000); scaling runs of the models in the time
#: targets at two small sizes; a short overhead run.
QUICK = Protocol(
    quick=True,
    uci_splits=1,
    uci_max_train=500,
    uci_max_test=500,
    generator_seeds=1,
    generator_train=1000,
    generator_test=1000,
    multioutput_splits=1,
    multioutput_generator_train=500,
    multioutput_generator_test=500,
    n_draws=200,
    scaling_sizes=(1_000, 2_000),
    scaling_predict_train=2_000,
    scaling_predict_rows=20_000,
    scaling_budget_seconds=120.0,
    scaling_repeats=1,
    scaling_repeat_up_to=10_000,
    overhead_sizes=(10_000,),
    overhead_repeats=3,
    datasets=(
        "boston",
        "kin8nm",
        "wine",
        "heteroscedastic",
        "enb",
        "slump",
        "two targets",
    ),
    scaling_models=(
        "IncrementalQuantileRegressor",
        "ConvexQuantileRegressor",
        "quantile forest",
        "LightGBM x19",
    ),
    skquantile_params=(("max_epochs", 40),),
    overhead_max_epochs=20,
)
