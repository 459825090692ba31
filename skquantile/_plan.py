"""Planning a fit: everything the parameters and the data decide before training.

:func:`plan_fit` turns an estimator's parameters, its automatic defaults
(:class:`AutoDefaults`, which each estimator declares as data) and the
validated data into a frozen :class:`FitPlan`: the standardisation, the
training and validation rows with their packed targets, the ensemble size
and the resolved batch, epoch and patience sizes. ``_training`` then only
carries the plan out.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._layers import pack_target

#: Optimiser steps that ``max_epochs="auto"`` aims for: enough for small
#: data sets, where a fixed number of epochs is only a few hundred steps.
AUTO_STEPS = 8000
#: Bounds of ``max_epochs="auto"``.
AUTO_EPOCHS = (20, 1000)
#: Optimiser steps without improvement that ``n_iter_no_change="auto"``
#: waits for before stopping early: a tenth of :data:`AUTO_STEPS`.
AUTO_PATIENCE_STEPS = 800
#: Fewest epochs that ``n_iter_no_change="auto"`` waits for.
AUTO_PATIENCE_EPOCHS = 20
#: Bounds of ``batch_size="auto"``, which is an eighth of the training rows.
AUTO_BATCH = (32, 256)
#: ``n_members="auto"`` trains about this many row-members: 5 networks up to
#: 4000 rows, fewer above, one from 10 001 rows on (``20000 // n_rows``).
AUTO_MEMBER_ROWS = 20_000
#: Most networks that ``n_members="auto"`` trains.
AUTO_MEMBERS = 5


@dataclass(frozen=True)
class AutoDefaults:
    """What an estimator's ``"auto"`` parameters resolve to, for one kind of
    target (one target, or several).

    Attributes
    ----------
    hidden_layer_sizes : tuple of int or None
        ``hidden_layer_sizes="auto"``; ``None`` where the estimator has no
        automatic sizes (the resolved sizes are then not recorded).
    ensemble : bool
        Whether ``n_members="auto"`` follows the data
        (:func:`resolve_n_members`); otherwise it is one network.
    patience_steps : int
        Optimiser steps that ``n_iter_no_change="auto"`` waits for.
    patience_epochs : int
        Fewest epochs that ``n_iter_no_change="auto"`` waits for.
    patience_growth : int or None
        If set, the automatic patience grows to this many times the best
        epoch so far, up to ``max_patience_steps`` optimiser steps.
    max_patience_steps : int or None
        The most steps a growing patience waits for.
    energy_samples : int or None
        ``n_energy_samples="auto"`` (the convex estimator); ``None`` where
        the estimator has no such parameter.
    """

    hidden_layer_sizes: tuple | None = None
    ensemble: bool = True
    patience_steps: int = AUTO_PATIENCE_STEPS
    patience_epochs: int = AUTO_PATIENCE_EPOCHS
    patience_growth: int | None = None
    max_patience_steps: int | None = None
    energy_samples: int | None = None


@dataclass(frozen=True)
class FitPlan:
    """A fit as planned from the parameters and the data (see :func:`plan_fit`).

    ``features`` and ``target`` are the training rows, standardised, the
    target packed with the row weights (and the member columns of an
    ensemble, :func:`~skquantile._layers.pack_target`); ``validation`` is
    ``(features, target)`` of the held-out rows, or ``None``. With
    ``per_member_validation`` every row trains the members that did not hold
    it out, and the held-out rows score only the members that held them out.
    ``patience_growth`` is ``(growth, max_patience)`` or ``None``.
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    features: np.ndarray
    target: np.ndarray
    validation: tuple | None
    per_member_validation: bool
    seed: int
    n_members: int
    batch_size: int
    max_epochs: int
    patience: int
    patience_growth: tuple | None


def plan_fit(X, Y, sample_weight, auto, params, one_hot=()):
    """Plan a fit on validated ``X`` (n, p), ``Y`` (n, d) and ``sample_weight``.

    ``auto`` is the estimator's :class:`AutoDefaults` for ``Y``'s number of
    targets and ``params`` its (validated) parameters. The random draws
    follow ``params["random_state"]``: one seed for the whole fit, from
    which the validation rows are drawn here and training draws its own.
    The columns ``one_hot`` (the inputs of categorical levels) are left as
    0 and 1, every other column is standardised.
    """
    X, Y, weight = merge_duplicate_rows(X.astype(np.float64), Y, sample_weight)
    x_mean, x_scale = weighted_location_scale(X, weight, 1.0)
    # Standardised, the input of a level seen in a fraction p of the rows
    # would be about 1/sqrt(p) on its rows: a rare level would start out as
    # the strongest input. As 0/1 every level starts out equal, and a rare
    # level moves the prediction only as far as its few rows pull it.
    x_mean[list(one_hot)], x_scale[list(one_hot)] = 0.0, 1.0
    # A constant target gets a tiny scale: whatever spread the network keeps
    # in standardised units then vanishes in target units.
    y_mean, y_scale = weighted_location_scale(Y, weight, 1e-9)
    features = ((X - x_mean) / x_scale).astype(np.float32)
    z = (Y - y_mean) / y_scale
    # The weight is rescaled to mean one: only relative weights matter for
    # the weighted mean loss, and this keeps its magnitude ordinary.
    row_weight = weight / weight.mean()

    seed = check_random_state(params["random_state"]).randint(np.iinfo(np.int32).max)
    n_members = params["n_members"]
    if n_members == "auto" and not auto.ensemble:
        n_members = 1
    n_members = resolve_n_members(n_members, len(features))
    masks, split = draw_held_out_rows(len(features), n_members, params, seed)
    target = pack_target(z, row_weight, masks)
    validation = None
    if masks is not None:
        # Every row trains the members that did not hold it out; the rows
        # held out by some member score those members.
        held_out = masks.min(axis=1) == 0
        validation = (features[held_out], target[held_out])
    elif split is not None:
        train, valid = split
        validation = (features[valid], target[valid])
        features, target = features[train], target[train]

    n_rows = len(features)
    batch_size = resolve_batch_size(params["batch_size"], n_rows)
    patience_growth = None
    if params["n_iter_no_change"] == "auto" and auto.patience_growth is not None:
        max_patience = resolve_patience(
            "auto", n_rows, batch_size, auto.max_patience_steps, auto.patience_epochs
        )
        patience_growth = (auto.patience_growth, max_patience)
    return FitPlan(
        x_mean=x_mean,
        x_scale=x_scale,
        y_mean=y_mean,
        y_scale=y_scale,
        features=features,
        target=target,
        validation=validation,
        per_member_validation=masks is not None,
        seed=seed,
        n_members=n_members,
        batch_size=batch_size,
        max_epochs=resolve_max_epochs(params["max_epochs"], n_rows, batch_size),
        patience=resolve_patience(
            params["n_iter_no_change"],
            n_rows,
            batch_size,
            auto.patience_steps,
            auto.patience_epochs,
        ),
        patience_growth=patience_growth,
    )


def draw_held_out_rows(n_rows, n_members, params, seed):
    """The rows that early stopping holds out: ``(masks, split)``.

    For an ensemble, ``masks`` (:func:`member_masks`) says which rows train
    which member and ``split`` is ``None``; for one network, ``split`` is
    ``(train, validation)`` row indices (:func:`train_validation_split`) and
    ``masks`` is ``None``. Both are ``None`` without early stopping or with
    too few rows. The draws depend only on the arguments, so the held-out
    rows of a fit can be drawn again after it (:func:`held_out_rows`).
    """
    if not params["early_stopping"]:
        return None, None
    rng = np.random.RandomState(seed)
    if n_members > 1:
        return member_masks(n_rows, n_members, params["validation_fraction"], rng), None
    return None, train_validation_split(n_rows, params["validation_fraction"], rng)


def held_out_rows(X, Y, sample_weight, params, n_members, seed):
    """The rows a fit held out, as planned by :func:`plan_fit`, in data units.

    ``X``, ``Y`` and ``sample_weight`` are the validated training data of
    the fit, ``params`` its parameters, ``n_members`` and ``seed`` what it
    resolved and drew. Returns ``(X, Y, weight, held_out)``: the held-out
    rows (duplicates merged, as in training) with their weights, and a
    boolean array of shape (n_held_out, n_members) that says which members
    held each row out (so did not train on it). ``None`` if the fit held no
    rows out.
    """
    X, Y, weight = merge_duplicate_rows(X.astype(np.float64), Y, sample_weight)
    masks, split = draw_held_out_rows(len(X), n_members, params, seed)
    if masks is not None:
        held = masks.min(axis=1) == 0
        return X[held], Y[held], weight[held], masks[held] == 0
    if split is not None:
        valid = split[1]
        return X[valid], Y[valid], weight[valid], np.ones((len(valid), 1), bool)
    return None


def weighted_location_scale(values, weight, constant_scale):
    """Weighted mean and standard deviation of each column.

    A column whose spread is negligible next to its magnitude (a constant
    column, possibly up to rounding) gets ``constant_scale`` times that
    magnitude (at least one) as its scale instead.
    """
    mean = np.average(values, axis=0, weights=weight)
    deviation = values - mean
    # Dividing by the largest deviation before squaring keeps the squares of
    # huge values (beyond 1e154) from overflowing.
    largest = np.abs(deviation).max(axis=0)
    largest = np.where(largest > 0, largest, 1.0)
    scale = largest * np.sqrt(
        np.average((deviation / largest) ** 2, axis=0, weights=weight)
    )
    magnitude = np.maximum(1.0, np.abs(mean))
    return mean, np.where(scale <= 1e-12 * magnitude, constant_scale * magnitude, scale)


def merge_duplicate_rows(X, Y, sample_weight):
    """Merge identical ``(x, y)`` rows into one row that carries their total weight.

    Rows of zero weight are dropped first. The result is sorted, so it depends
    only on the weighted empirical distribution of the data: an integer
    weight ``k`` is then exactly the same as repeating a row ``k`` times, and
    the order of the rows does not matter.
    """
    keep = sample_weight > 0
    rows = np.hstack([X[keep], Y[keep]])
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=sample_weight[keep])
    return unique[:, : X.shape[1]], unique[:, X.shape[1] :], weight


def train_validation_split(n_rows, validation_fraction, rng):
    """Random row indices for training and validation, or ``None`` if too few rows.

    The validation set has ``ceil(validation_fraction * n_rows)`` rows, like
    :func:`sklearn.model_selection.train_test_split`; both sets need one row
    at least.
    """
    n_valid = math.ceil(validation_fraction * n_rows)
    if n_valid < 1 or n_rows - n_valid < 1:
        return None
    order = rng.permutation(n_rows)
    return order[n_valid:], order[:n_valid]


def member_masks(n_rows, n_members, validation_fraction, rng):
    """Which rows train which member: an array of shape (n_rows, n_members).

    Every member holds out its own random ``ceil(validation_fraction *
    n_rows)`` rows (0 in its column), drawn independently, so a row trains
    most members. ``None`` if there are too few rows to hold out one.
    """
    masks = np.ones((n_rows, n_members), dtype=np.float32)
    for member in range(n_members):
        split = train_validation_split(n_rows, validation_fraction, rng)
        if split is None:
            return None
        masks[split[1], member] = 0.0
    return masks


def resolve_n_members(n_members, n_rows):
    """The ensemble size a fit on ``n_rows`` rows uses for ``n_members``.

    ``"auto"`` is ``AUTO_MEMBER_ROWS // n_rows`` within [1, 5]: where one
    network's variance costs most (small data) the ensemble is largest, and
    where five networks would multiply a long fit (and every prediction) by
    several, one network is trained.
    """
    if n_members == "auto":
        n_members = min(AUTO_MEMBERS, max(1, AUTO_MEMBER_ROWS // max(1, n_rows)))
    return int(n_members)


def _epochs_for_steps(steps, n_rows, batch_size):
    """Epochs of ``ceil(n_rows / batch_size)`` batches that make ``steps`` steps."""
    return math.ceil(steps / math.ceil(n_rows / batch_size))


def resolve_batch_size(batch_size, n_rows):
    """The batch size a fit on ``n_rows`` rows uses for ``batch_size``.

    ``"auto"`` is an eighth of the rows, clipped to [32, 256]: small data
    get several steps per epoch, large data the usual 256. Either way a
    batch holds at most all the rows.
    """
    if batch_size == "auto":
        low, high = AUTO_BATCH
        batch_size = min(high, max(low, n_rows // 8))
    return int(max(1, min(batch_size, n_rows)))


def resolve_max_epochs(max_epochs, n_rows, batch_size):
    """The epoch budget a fit on ``n_rows`` rows uses for ``max_epochs``.

    ``"auto"`` gives about :data:`AUTO_STEPS` optimiser steps, within
    :data:`AUTO_EPOCHS`: hundreds of epochs for a few hundred rows, the
    minimum of 20 from about 100 000 rows on.
    """
    if max_epochs == "auto":
        low, high = AUTO_EPOCHS
        max_epochs = min(
            high, max(low, _epochs_for_steps(AUTO_STEPS, n_rows, batch_size))
        )
    return int(max_epochs)


def resolve_patience(
    n_iter_no_change,
    n_rows,
    batch_size,
    patience_steps=AUTO_PATIENCE_STEPS,
    min_epochs=AUTO_PATIENCE_EPOCHS,
):
    """The epochs without improvement a fit on ``n_rows`` rows waits for.

    ``"auto"`` waits for about ``patience_steps`` optimiser steps, and at
    least ``min_epochs`` epochs: on a few hundred rows an epoch is only a
    few steps, and a patience of 20 epochs stops while the learning rate is
    still high and the validation loss still noisy.
    """
    if n_iter_no_change == "auto":
        n_iter_no_change = max(
            min_epochs, _epochs_for_steps(patience_steps, n_rows, batch_size)
        )
    return int(n_iter_no_change)
