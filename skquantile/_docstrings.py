"""Parameter descriptions that several public functions share, written once.

A docstring names a shared description by a line holding only
``{name}``; :func:`shared_parameters` replaces that line by the
description, indented like the line. A description may hold several
parameters, or a whole section (its heading included).
"""

import re


def shared_parameters(descriptions):
    """Decorator that fills the ``{name}`` lines of the docstring of a
    function or a class from ``descriptions`` (a dict of name to text, its
    first line unindented and the next ones indented by four spaces). A
    ``{name}`` line that ``descriptions`` lacks is an error, so that no
    placeholder reaches the documentation."""

    def decorate(function):
        lines = []
        for line in function.__doc__.split("\n"):
            stripped = line.strip()
            if not re.fullmatch(r"\{[A-Za-z_]\w*\}", stripped):
                lines.append(line)
                continue
            indent = line[: len(line) - len(line.lstrip())]
            text = descriptions[stripped[1:-1]]
            lines.extend(indent + part if part else part for part in text.split("\n"))
        function.__doc__ = "\n".join(lines)
        return function

    return decorate


_FEATURES = """X : array-like of shape (n_samples, n_features)
    Features."""
_FEATURES_OF_DRAWS = _FEATURES.replace("(n_samples,", "(n_samples_X,")
_REGION_COVERAGE = """coverage : float, default=0.9
    Probability of the region, in (0, 1)."""
_SEEDS = """random_state : int, RandomState instance or None, default={}
    Seeds the draws."""


def _parameters_section(*descriptions):
    """A numpydoc Parameters section, heading included."""
    return "\n".join(["Parameters", "----------", *descriptions])


#: The Parameters sections of the prediction methods that the estimators
#: and :class:`~skquantile.CalibratedQuantileRegressor` share, headings
#: included.
PREDICT_PARAMETERS = {
    "features_parameters": _parameters_section(_FEATURES),
    "predict_parameters": _parameters_section(
        _FEATURES,
        """quantiles : float or array-like of shape (n_levels,), default=None
    Levels in (0, 1). ``None`` predicts the median; levels predict the
    quantiles of each target at those levels
    (:meth:`predict_marginal_quantile`). This is the convention of
    quantile-forest, and a :class:`~sklearn.pipeline.Pipeline` forwards
    it: ``pipeline.predict(X, quantiles=[0.05, 0.5, 0.95])``.""",
    ),
    "marginal_quantile_parameters": _parameters_section(
        _FEATURES_OF_DRAWS,
        """alpha : float or array-like of shape (n_levels,)
    Levels in (0, 1).
n_samples : int, default=1000
    Draws per row for the Monte Carlo estimate; unused where the
    marginals have a closed form.""",
        _SEEDS.format(0),
    ),
    "sample_parameters": _parameters_section(
        _FEATURES_OF_DRAWS,
        """n_samples : int, default=1
    Draws per row.""",
        _SEEDS.format(None),
    ),
    "predict_cdf_parameters": _parameters_section(
        _FEATURES,
        """y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    One target value per row, shaped like the training target; ``-inf``
    and ``inf`` give 0 and 1.""",
    ),
    "region_parameters": _parameters_section(
        _FEATURES,
        _REGION_COVERAGE,
        """n_points : int, default=100
    Number of boundary points per row.""",
    ),
    "region_contains_parameters": _parameters_section(
        _FEATURES,
        """Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    One observation per row, shaped like the training target.""",
        _REGION_COVERAGE,
    ),
}


#: The ``categorical_features`` parameter of the estimators.
FEATURE_PARAMETERS = {
    "categorical_features": 'categorical_features : {"from_dtype"}, array-like or '
    'None, default="from_dtype"\n'
    """    Which columns of ``X`` are categorical; each becomes one 0/1 input per
    level seen in training (the 32 most frequent; rarer levels share an
    "other" input), plus an input for a missing value if training had
    missing values there. ``"from_dtype"``: the columns of a data frame
    whose dtype is ``category`` or a string dtype, or ``object`` holding
    text (no column of an array). Otherwise a boolean mask, integer
    indices or column names, as in
    :class:`~sklearn.ensemble.HistGradientBoostingRegressor`; ``None`` for
    none. Levels are compared as text, and a level never seen in training
    sets the "other" input (or none). See :ref:`tabular-data`.""",
}


_TRAINING = """max_epochs : int or "auto", default="auto"
    Maximum number of passes over the training data; the learning rate
    decays to zero along a cosine over these epochs. ``"auto"`` gives
    about 8000 optimiser steps, within 20 to 1000 epochs: hundreds of
    epochs for a few hundred rows, 20 from about 100 000 rows on. The
    resolved number is ``max_epochs_``.
batch_size : int or "auto", default="auto"
    Rows per mini-batch (all rows if there are fewer). ``"auto"`` is an
    eighth of the training rows within 32 to 256. The resolved size is
    ``batch_size_``.
learning_rate_init : float, default=3e-3
    Initial learning rate of the AdamW optimiser.
weight_decay : float, default=0.0
    Decoupled weight decay of AdamW."""
_EARLY_STOPPING = """early_stopping : bool, default=True
    Whether to hold out ``validation_fraction`` of the rows and stop when
    the loss on them (see ``tol``) stops improving, keeping the weights of
    the best epoch. Each member of an ensemble holds out its own random rows
    and keeps its own best epoch; training stops when no member is still
    improving (see ``n_iter_no_change``). This is what keeps a network from
    over-fitting small data, where it would learn too narrow distributions.
    If ``False``, or if there are too few distinct rows to hold out one,
    training runs on all rows and stops when the training loss stops
    improving (again keeping the best epoch).
validation_fraction : float, default=0.1
    Share of the distinct training rows held out for early stopping."""
_RUN = """verbose : int, default=0
    1 prints a table with one line per epoch (training and validation
    loss, the best so far in colour, seconds); 2 also shows a
    progress bar over the mini-batches of each epoch, for long epochs.
device : str, default="cpu"
    Name of the torch device to train on, e.g. ``"cuda"`` or ``"cuda:1"``
    (a string, so that the estimator can be saved). Predictions are returned
    as NumPy arrays either way.
n_jobs : int or None, default=None
    Threads that torch uses to fit and predict. ``None`` is one thread,
    or fewer threads than that if the caller has already limited them
    (``threadpoolctl.threadpool_limits``, a joblib worker,
    ``OMP_NUM_THREADS``); a positive integer is that many threads, and
    ``-1`` is every CPU (``-2`` all but one). The caller's torch thread
    count is restored afterwards. One thread is the default because the
    networks here are small: a second thread saves at most about a
    quarter on an idle machine and, when another process keeps a core
    busy, makes every training step wait for it (a fit several times
    slower). It also makes a seeded fit independent of the machine's
    number of cores. See :ref:`threads` in the user guide."""
_FIT_ATTRIBUTES = """n_outputs_ : int
    Number of targets.
n_iter_ : int
    Number of epochs run.
max_epochs_ : int
    The epoch budget used (``max_epochs`` with ``"auto"`` resolved).
batch_size_ : int
    The mini-batch size used (``batch_size`` with ``"auto"`` resolved)."""
_NETWORK_ATTRIBUTES = """n_members_ : int
    The number of networks in the ensemble (``n_members`` with
    ``"auto"`` resolved).
net_ : skorch.NeuralNet
    The trained network; its ``history`` holds the losses per epoch.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when ``X`` has string column names."""


#: Parameter and attribute descriptions that the two estimators share.
ESTIMATOR_PARAMETERS = {
    **FEATURE_PARAMETERS,
    "training_parameters": _TRAINING,
    "early_stopping_parameters": _EARLY_STOPPING,
    "run_parameters": _RUN,
    "fit_attributes": _FIT_ATTRIBUTES,
    "network_attributes": _NETWORK_ATTRIBUTES,
}
