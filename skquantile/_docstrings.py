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
    One target value per row, shaped like the training target.""",
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
