"""Ensembles of networks: averaging, per-member early stopping."""

import pickle

import numpy as np
import pytest
import torch
from scipy import special

from skquantile import (
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
    load_model,
    save_model,
)
from skquantile._piecewise_linear import (
    crps_closed_form,
    mix_quantile_functions,
    select_members,
)
from skquantile._plan import member_masks, resolve_n_members
from skquantile._training import float64_copy
from skquantile.datasets import make_heteroscedastic, make_two_targets
from skquantile.metrics import midpoint_levels

SMALL = dict(hidden_layer_sizes=(16,), n_knots=8, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    return X, y


def _float64_module(model, X):
    """The fitted module in float64 and the standardised features ``X``."""
    module = float64_copy(model.net_.module_)
    return module, torch.as_tensor(model._validated_features(X))


def _member_quantiles(model, X, levels):
    """Every member's quantiles in target units, shape (n_members, n, n_levels)."""
    module, features = _float64_module(model, X)
    with torch.no_grad():
        members = module.member_quantile_functions(features)
        alpha = torch.as_tensor(levels).expand(*members.left_scale.shape, len(levels))
        quantiles = members.quantile(alpha.contiguous())[:, :, 0].numpy()
    return model._y_mean[0] + model._y_scale[0] * quantiles


@pytest.mark.parametrize(
    ("n_rows", "expected"),
    [(50, 5), (4000, 5), (5000, 4), (6000, 3), (10_000, 2), (19_999, 1), (10**6, 1)],
)
def test_auto_ensemble_size_shrinks_with_the_data(n_rows, expected):
    assert resolve_n_members("auto", n_rows) == expected
    assert resolve_n_members(3, n_rows) == 3


def test_fitted_ensemble_size(data):
    X, y = data
    model = IncrementalQuantileRegressor(max_epochs=2, **SMALL).fit(X, y)
    assert model.n_members_ == 5
    assert model.net_.module_.n_members == 5
    single = IncrementalQuantileRegressor(max_epochs=2, n_members=1, **SMALL)
    assert single.fit(X, y).n_members_ == 1
    # One network keeps plain Linear layers (and the state of older files).
    assert isinstance(single.net_.module_.head, torch.nn.Linear)


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_prediction_is_the_average_of_the_members_quantile_functions(data, n_pieces):
    X, y = data
    model = IncrementalQuantileRegressor(
        max_epochs=10, n_members=3, n_pieces=n_pieces, pooling="quantiles", **SMALL
    ).fit(X, y)
    # Levels in both tails, on knots and between them.
    levels = np.array([1e-4, 0.01, 0.0625, 0.1, 0.33, 0.5, 0.77, 0.9375, 0.99, 0.9999])
    members = _member_quantiles(model, X[:40], levels)
    assert members.shape == (3, 40, len(levels))
    # The members differ: they are independent networks.
    assert np.abs(members[0] - members[1]).max() > 1e-3
    np.testing.assert_allclose(
        model.predict_quantile(X[:40], levels), members.mean(0), rtol=1e-10, atol=1e-10
    )
    # The average is a proper quantile function: increasing, and its CDF
    # inverts it.
    grid = np.linspace(1e-3, 1 - 1e-3, 301)
    quantiles = model.predict_quantile(X[:40], grid)
    assert (np.diff(quantiles, axis=1) > 0).all()
    for j in (0, 75, 150, 299):
        np.testing.assert_allclose(
            model.predict_cdf(X[:40], quantiles[:, j]), grid[j], atol=1e-9
        )


def test_average_scores_no_worse_than_the_mean_member(data):
    # The pinball loss is convex in the quantile, so the average quantile
    # function never scores worse than the members on average, at any level.
    X, y = data
    X_test, y_test, _ = make_heteroscedastic(n_samples=500, random_state=1)
    model = IncrementalQuantileRegressor(
        max_epochs=20, n_members=4, pooling="quantiles", **SMALL
    )
    model.fit(X, y)
    levels = midpoint_levels(49)
    members = _member_quantiles(model, X_test, levels)
    _check_average_beats_mean_member(
        model.predict_quantile(X_test, levels), members, y_test, levels
    )


def _check_average_beats_mean_member(ensemble, members, y, levels):
    """The average's pinball loss is at most the members' mean at every
    level, and lower overall (the members disagree)."""

    def pinball(quantiles):
        error = y[:, None] - quantiles
        return np.maximum(levels * error, (levels - 1) * error).mean(-2)

    member_scores = np.stack([pinball(q) for q in members])
    assert (pinball(ensemble) <= member_scores.mean(0) + 1e-12).all()
    assert pinball(ensemble).mean() < member_scores.mean()


def _member_cdf(model, X, y_values):
    """Every member's CDF at target values of shape (n, m): (n_members, n, m)."""
    module, features = _float64_module(model, X)
    z = (np.asarray(y_values, dtype=np.float64) - model._y_mean[0]) / model._y_scale[0]
    with torch.no_grad():
        members = module.member_quantile_functions(features)
        z = torch.as_tensor(z)[:, None].expand(module.n_members, *z.shape[:1], 1, -1)
        return members.cdf(z.contiguous())[:, :, 0].numpy()


def _predicted_cdf(model, X, y_values):
    """The model's CDF at target values of shape (n, m), column by column."""
    columns = [model.predict_cdf(X, y_values[:, j]) for j in range(y_values.shape[1])]
    return np.stack(columns, 1)


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_mixture_pooling_predicts_the_mixture_of_the_members(data, n_pieces):
    X, y = data
    model = IncrementalQuantileRegressor(
        max_epochs=10, n_members=3, n_pieces=n_pieces, pooling="mixture", **SMALL
    ).fit(X, y)
    rows = X[:40]
    # The mixture's CDF is the mean of the members' CDFs: exactly at the
    # members' breakpoints, and to the chord's error in the tails elsewhere.
    levels = np.linspace(1e-3, 1 - 1e-3, 9)
    knots = _member_quantiles(model, rows, model.knot_levels_)
    knots = knots.transpose(1, 0, 2).reshape(40, -1)
    np.testing.assert_allclose(
        _predicted_cdf(model, rows, knots),
        _member_cdf(model, rows, knots).mean(0),
        atol=1e-12,
    )
    low, high = model.predict_quantile(rows, [1e-4, 1 - 1e-4]).T
    grid = low[:, None] + (high - low)[:, None] * np.linspace(0, 1, 401)
    np.testing.assert_allclose(
        _predicted_cdf(model, rows, grid),
        _member_cdf(model, rows, grid).mean(0),
        atol=1e-3,
    )
    # It is again a proper quantile function, inverted by its CDF.
    quantiles = model.predict_quantile(rows, levels)
    assert (
        np.diff(model.predict_quantile(rows, np.linspace(1e-6, 1 - 1e-6, 301)), axis=1)
        >= 0
    ).all()
    for j, level in enumerate(levels):
        np.testing.assert_allclose(
            model.predict_cdf(rows, quantiles[:, j]), level, atol=1e-9
        )


def test_mixture_is_wider_than_the_average_and_scores_no_worse_than_the_members(data):
    # The CRPS is convex in the distribution function, so the mixture scores
    # at most the members' mean CRPS; the mixture of members that disagree is
    # wider than their average quantile function, on most rows.
    X, y = data
    X_test, y_test, _ = make_heteroscedastic(n_samples=500, random_state=1)
    params = dict(max_epochs=20, n_members=4, **SMALL)
    mixture = IncrementalQuantileRegressor(**params).fit(X, y)
    assert mixture.pooling == "mixture"
    average = IncrementalQuantileRegressor(pooling="quantiles", **params).fit(X, y)
    # Pooling changes the prediction only: the networks are the same.
    for key, tensor in average.net_.module_.state_dict().items():
        torch.testing.assert_close(mixture.net_.module_.state_dict()[key], tensor)
    levels = midpoint_levels(99)
    members = _member_quantiles(mixture, X_test, levels)

    def crps(quantiles):
        error = y_test[:, None] - quantiles
        return 2 * np.maximum(levels * error, (levels - 1) * error).mean()

    assert crps(mixture.predict_quantile(X_test, levels)) < np.mean(
        [crps(q) for q in members]
    )
    width = np.diff(mixture.predict_interval(X_test, 0.9), axis=1)
    narrower = np.diff(average.predict_interval(X_test, 0.9), axis=1)
    assert width.mean() > narrower.mean()
    assert (width > narrower).mean() > 0.75


def test_mixture_of_quantile_functions_keeps_the_tails_probability_and_mean():
    from skquantile._incremental_network import MIN_INCREMENT
    from skquantile._piecewise_linear import (
        PiecewiseLinearQuantileFunction,
        mix_quantile_functions,
    )

    generator = torch.Generator().manual_seed(0)
    levels = torch.tensor([0.1, 0.3, 0.7, 0.9], dtype=torch.float64)
    steps = (
        torch.rand(3, 5, 4, generator=generator, dtype=torch.float64) + MIN_INCREMENT
    )
    values = torch.cumsum(steps, -1) + 3 * torch.randn(
        3, 5, 1, generator=generator, dtype=torch.float64
    )
    left = torch.rand(3, 5, generator=generator, dtype=torch.float64) + 0.1
    right = torch.rand(3, 5, generator=generator, dtype=torch.float64) + 0.1
    members = PiecewiseLinearQuantileFunction(levels, values, left, right)
    mixture = mix_quantile_functions(members)
    first, last = mixture.values[:, :1], mixture.values[:, -1:]
    member_first = members.cdf(first.expand(3, 5, 1))[..., 0]
    member_last = members.cdf(last.expand(3, 5, 1))[..., 0]
    torch.testing.assert_close(mixture.levels[:, 0], member_first.mean(0))
    torch.testing.assert_close(mixture.levels[:, -1], member_last.mean(0))
    # Mass below the first value times the mean distance below it: the
    # integral of each member's exponential tail is F_m(z0) * scale_m.
    torch.testing.assert_close(
        mixture.levels[:, 0] * mixture.left_scale, (member_first * left).mean(0)
    )
    torch.testing.assert_close(
        (1 - mixture.levels[:, -1]) * mixture.right_scale,
        ((1 - member_last) * right).mean(0),
    )
    # Identical members mix to themselves: exactly between the knots, and
    # in the tails to the chords' error (their CDFs agree within 2% of the
    # tail probability, 0.1).
    same = PiecewiseLinearQuantileFunction(
        levels,
        values[:1].expand(3, 5, 4),
        left[:1].expand(3, 5),
        right[:1].expand(3, 5),
    )
    one = PiecewiseLinearQuantileFunction(levels, values[0], left[0], right[0])
    inner = torch.linspace(0.1, 0.9, 81, dtype=torch.float64).expand(5, 81)
    mixed = mix_quantile_functions(same)
    torch.testing.assert_close(mixed.quantile(inner), one.quantile(inner))
    outer = torch.cat([torch.logspace(-6, -1, 50), 1 - torch.logspace(-6, -1, 50)])
    z = one.quantile(outer.to(torch.float64).expand(5, 100))
    assert (mixed.cdf(z) - one.cdf(z)).abs().max() < 0.02 * 0.1


def _disagreeing_members(n_knots, n_pieces, n_members, n_rows):
    """The float64 quantile functions of an ensemble of incremental networks
    with random weights (members that disagree widely), on 2 outputs."""
    from skquantile._incremental_network import IncrementalQuantileNetwork

    torch.manual_seed(0)
    knots = (np.arange(n_knots) + 0.5) / n_knots
    net = IncrementalQuantileNetwork(4, 2, knots, n_pieces, (16,), "gelu", n_members)
    net = net.double()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
        return net.member_quantile_functions(
            torch.randn(n_rows, 4, dtype=torch.float64)
        )


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_mixture_cdf_is_within_2e_4_of_the_members_mean_with_40_knots(n_pieces):
    # Members that disagree widely (random weights) at the default 40 knots.
    from skquantile._piecewise_linear import mix_quantile_functions

    members = _disagreeing_members(40, n_pieces, 5, 7)
    with torch.no_grad():
        mixture = mix_quantile_functions(members)
        z = torch.linspace(-8, 8, 4001, dtype=torch.float64).expand(7, 2, 4001)
        exact = members.cdf(z.expand(5, *z.shape)).mean(0)
        assert (mixture.cdf(z) - exact).abs().max() < 2e-4


@pytest.mark.parametrize("n_pieces", [1, 3])
@pytest.mark.parametrize("shared_levels", [True, False])
def test_mixture_quantiles_by_bisection_equal_the_built_mixture(
    n_pieces, shared_levels
):
    """A few levels of a mixture are found by bisection over its breakpoints
    instead of building it whole: the same quantiles, in the tails, at the
    mixture's own breakpoint levels, and where members coincide (their
    equal values make runs of equal levels in the mixture)."""
    from skquantile._piecewise_linear import (
        PiecewiseLinearQuantileFunction,
        mix_quantile_functions,
        mixture_quantiles,
    )

    members = _disagreeing_members(12, n_pieces, 4, 30)
    with torch.no_grad():
        # Members 2 and 3 repeat members 0 and 1.
        members = PiecewiseLinearQuantileFunction(
            *(
                field if field.ndim == 1 else torch.cat([field[:2], field[:2]])
                for field in members
            )
        )
        mixture = mix_quantile_functions(members)
        rng = np.random.default_rng(0)
        extreme = [1e-12, 1e-6, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-6, 1 - 1e-12]
        if shared_levels:
            alpha = torch.tensor(extreme + list(rng.uniform(size=5)))
            expanded = alpha.expand(30, 2, -1)
        else:
            alpha = torch.as_tensor(rng.uniform(size=(30, 2, 9)))
            # Every row's own breakpoint levels, where the bracket is exact.
            alpha[..., :3] = mixture.levels[..., [0, 17, 40]]
            expanded = alpha
        got = mixture_quantiles(members, alpha)
        expected = mixture.quantile(expanded)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_mixture_cdf_by_search_equals_the_built_mixture(n_pieces):
    """The mixture's distribution function at a few values per row, found by
    a search of its breakpoints instead of building it whole: the same
    numbers far in both tails, at the mixture's own breakpoints, between
    them, and on rows whose members coincide (their equal values make runs
    of equal levels, which the built mixture merges)."""
    from skquantile._piecewise_linear import (
        PiecewiseLinearQuantileFunction,
        mix_quantile_functions,
        mixture_cdf,
    )

    members = _disagreeing_members(12, n_pieces, 4, 30)
    with torch.no_grad():
        # On the first ten rows members 2 and 3 repeat members 0 and 1.
        def repeat_on_first_rows(field):
            if field.ndim == 1:
                return field
            field = field.clone()
            field[2:, :10] = field[:2, :10]
            return field

        members = PiecewiseLinearQuantileFunction(
            *(repeat_on_first_rows(field) for field in members)
        )
        mixture = mix_quantile_functions(members)
        rng = np.random.default_rng(0)
        z = torch.as_tensor(rng.normal(scale=3.0, size=(30, 2, 11)))
        z[..., :3] = torch.tensor([-1e3, -40.0, 1e3])
        # Every row's own breakpoint values, where the segments meet.
        z[..., 3:6] = mixture.values[..., [0, 17, -1]]
        got = mixture_cdf(members, z)
        expected = mixture.cdf(z)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_ensemble_cdf_inverts_its_quantiles_with_and_without_the_search():
    # The network's distribution function (by search for one value per row)
    # inverts its quantiles (by bisection for a few levels per row), and
    # equals the built mixture's, for the ensemble and for a pool of members.
    from skquantile._incremental_network import IncrementalQuantileNetwork

    torch.manual_seed(0)
    knots = (np.arange(10) + 0.5) / 10
    net = IncrementalQuantileNetwork(3, 2, knots, 1, (8,), "gelu", 4).double().eval()
    X = torch.randn(40, 3, dtype=torch.float64)
    alpha = torch.tensor([0.001, 0.3, 0.97], dtype=torch.float64)
    with torch.no_grad():
        quantiles = net.quantiles(X, alpha)
        for members in (None, [1, 3]):
            cdf = torch.stack(
                [net.cdf(X, quantiles[..., [k]], members)[..., 0] for k in range(3)],
                -1,
            )
            functions = net.member_quantile_functions(X)
            if members is not None:
                functions = select_members(functions, members)
            built = mix_quantile_functions(functions).cdf(quantiles)
            torch.testing.assert_close(cdf, built, rtol=1e-12, atol=1e-12)
            if members is None:
                torch.testing.assert_close(
                    cdf, alpha.expand_as(cdf), rtol=1e-9, atol=1e-12
                )


@pytest.mark.parametrize("n_pieces", [1, 3])
def test_mixture_in_blocks_of_rows_equals_the_mixture_of_all_rows(
    n_pieces, monkeypatch
):
    # On the CPU the mixture is built in blocks of rows; the blocks, their
    # uneven last one included, must give the mixture of all rows at once.
    # With one piece the members share their knot levels (1-d levels), with
    # spline pieces every row has its own.
    from skquantile import _piecewise_linear
    from skquantile._incremental_network import IncrementalQuantileNetwork

    torch.manual_seed(0)
    knots = (np.arange(8) + 0.5) / 8
    net = IncrementalQuantileNetwork(4, 2, knots, n_pieces, (16,), "gelu", 3)
    with torch.no_grad():
        members = net.double().member_quantile_functions(
            torch.randn(50, 4, dtype=torch.float64)
        )
        whole = _piecewise_linear.mix_quantile_functions(members)
        n_breakpoints = 8 + 7 * (n_pieces - 1)
        # Member CDF evaluations per row: 2 outputs, 3 members at the union
        # of 3 members' breakpoints and 20 tail points; blocks of 7 rows.
        per_row = (
            2 * 3 * 3 * (n_breakpoints + 2 * len(_piecewise_linear.MIXTURE_TAIL_SHARES))
        )
        monkeypatch.setattr(_piecewise_linear, "MIXTURE_BLOCK_ELEMENTS", 7 * per_row)
        calls = []
        mix_block = _piecewise_linear._mix
        monkeypatch.setattr(
            _piecewise_linear,
            "_mix",
            lambda part: calls.append(part) or mix_block(part),
        )
        blocks = _piecewise_linear.mix_quantile_functions(members)
    assert [len(part.values[0]) for part in calls] == [7] * 7 + [1]
    assert (
        blocks.values.shape == whole.values.shape == (50, 2, 3 * (n_breakpoints + 20))
    )
    for got, expected in zip(blocks, whole, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_pooling_is_validated_and_kept_by_save_load(data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match="pooling"):
        IncrementalQuantileRegressor(pooling="median", **SMALL).fit(X, y)
    levels = [0.01, 0.5, 0.99]
    for pooling in ("mixture", "quantiles"):
        model = IncrementalQuantileRegressor(
            max_epochs=3, n_members=2, pooling=pooling, **SMALL
        ).fit(X, y)
        save_model(model, tmp_path / "model.skq")
        restored = load_model(tmp_path / "model.skq")
        assert restored.pooling == pooling
        np.testing.assert_array_equal(
            restored.predict_quantile(X, levels), model.predict_quantile(X, levels)
        )
    # Files written before pooling existed averaged the quantile functions,
    # and still do.
    payload = torch.load(tmp_path / "model.skq", weights_only=True)
    del payload["params"]["pooling"]
    torch.save(payload, tmp_path / "old.skq")
    old = load_model(tmp_path / "old.skq")
    assert old.pooling == "quantiles"
    np.testing.assert_array_equal(
        old.predict_quantile(X, levels), model.predict_quantile(X, levels)
    )


def test_members_hold_out_their_own_rows():
    masks = member_masks(200, 5, 0.1, np.random.RandomState(0))
    assert masks.shape == (200, 5)
    # Each member holds out ceil(0.1 * 200) rows of its own.
    assert ((masks == 0).sum(0) == 20).all()
    assert len({tuple(np.flatnonzero(column == 0)) for column in masks.T}) == 5
    assert member_masks(1, 2, 0.5, np.random.RandomState(0)) is None


def test_each_member_keeps_the_weights_of_its_own_best_epoch(data):
    X, y = data
    model = IncrementalQuantileRegressor(
        max_epochs=60, n_iter_no_change=5, n_members=3, **SMALL
    ).fit(X, y)
    history = np.array(model.net_.history[:, "valid_member_losses"])
    assert history.shape == (model.n_iter_, 3)
    np.testing.assert_allclose(
        model.net_.history[:, "valid_loss"], history.mean(1), rtol=1e-12
    )
    best_epochs = history.argmin(0)
    # The members stop improving at different epochs ...
    assert len(set(best_epochs)) > 1
    # ... and training stopped once none had improved for 5 epochs.
    assert model.n_iter_ == best_epochs.max() + 1 + 5
    # The restored members score their best losses on their held-out rows.
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    np.testing.assert_allclose(
        stopper._member_losses(model.net_), history.min(0), rtol=1e-5
    )
    np.testing.assert_array_equal(stopper.best_epoch_, best_epochs + 1)


def test_members_train_only_on_the_rows_they_do_not_hold_out(data):
    # A member's held-out rows carry no weight in its training loss: moving
    # their targets far away leaves that member's gradient unchanged and
    # changes the other members' gradients.
    from skquantile._incremental_network import (
        IncrementalQuantileNetwork,
        WeightedCRPSLoss,
    )

    torch.manual_seed(0)
    module = IncrementalQuantileNetwork(2, 1, midpoint_levels(8), 1, (8,), "relu", 3)
    X = torch.randn(6, 2)
    target = torch.cat([torch.randn(6, 1), torch.ones(6, 1), torch.ones(6, 3)], dim=1)
    target[:3, 2 + 1] = 0.0  # member 1 holds out rows 0-2
    loss = WeightedCRPSLoss()(module(X), target)
    loss.backward()
    grad = module.head.bias.grad.clone()
    module.zero_grad()
    moved = target.clone()
    moved[:3, 0] += 100.0
    WeightedCRPSLoss()(module(X), moved).backward()
    # Member 1's gradient does not see rows 0-2; members 0 and 2 do.
    torch.testing.assert_close(module.head.bias.grad[1], grad[1])
    assert not torch.allclose(module.head.bias.grad[0], grad[0])
    assert not torch.allclose(module.head.bias.grad[2], grad[2])


def test_without_early_stopping_every_member_trains_on_all_rows(data):
    X, y = data
    model = IncrementalQuantileRegressor(
        max_epochs=4, n_members=2, early_stopping=False, **SMALL
    ).fit(X, y)
    assert model.n_iter_ == 4
    assert "valid_loss" not in model.net_.history[-1]


def test_too_few_rows_to_hold_out_trains_on_all_rows():
    # Three copies of one row merge into one distinct row: none to hold out.
    X = np.zeros((3, 1))
    model = IncrementalQuantileRegressor(max_epochs=3, n_members=3, **SMALL)
    model.fit(X, np.ones(3))
    assert model.n_members_ == 3
    assert "valid_loss" not in model.net_.history[-1]
    assert np.isfinite(model.predict_quantile(X, [0.1, 0.9])).all()


def test_ensemble_save_load_and_old_single_network_files(data, tmp_path):
    X, y = data
    model = IncrementalQuantileRegressor(max_epochs=3, n_members=2, **SMALL)
    model.fit(X, y)
    save_model(model, tmp_path / "ensemble.skq")
    restored = load_model(tmp_path / "ensemble.skq")
    levels = [0.01, 0.5, 0.99]
    np.testing.assert_array_equal(
        restored.predict_quantile(X, levels), model.predict_quantile(X, levels)
    )
    # A file written before ensembles existed: one network, no n_members.
    single = IncrementalQuantileRegressor(max_epochs=3, n_members=1, **SMALL)
    single.fit(X, y)
    save_model(single, tmp_path / "single.skq")
    payload = torch.load(tmp_path / "single.skq", weights_only=True)
    del payload["fitted"]["n_members_"], payload["params"]["n_members"]
    torch.save(payload, tmp_path / "single.skq")
    old = load_model(tmp_path / "single.skq")
    assert old.n_members_ == 1
    np.testing.assert_array_equal(
        old.predict_quantile(X, levels), single.predict_quantile(X, levels)
    )


def test_zero_width_segments_score_like_the_function_without_them():
    # Averaging spline members can repeat a breakpoint; the CRPS is unchanged.
    from skquantile._piecewise_linear import PiecewiseLinearQuantileFunction

    levels = torch.tensor([0.1, 0.4, 0.6, 0.9], dtype=torch.float64)
    values = torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    scale = torch.tensor(0.3, dtype=torch.float64)
    plain = PiecewiseLinearQuantileFunction(levels, values, scale, scale)
    repeated = PiecewiseLinearQuantileFunction(
        torch.tensor([0.1, 0.4, 0.4, 0.6, 0.9], dtype=torch.float64),
        torch.tensor([-1.0, 0.0, 0.0, 0.5, 2.0], dtype=torch.float64),
        scale,
        scale,
    )
    for z in (-3.0, -0.5, 0.0, 0.2, 1.0, 4.0):
        z = torch.tensor(z, dtype=torch.float64)
        torch.testing.assert_close(
            crps_closed_form(repeated, z), crps_closed_form(plain, z)
        )


# Ensembles of convex potentials (ConvexQuantileRegressor).

CONVEX = dict(
    hidden_layer_sizes=(16,),
    potential_layer_sizes=(8, 8),
    n_energy_samples=8,
    random_state=0,
)


@pytest.fixture(scope="module")
def two_targets():
    return make_two_targets(n_samples=300, random_state=0)[:2]


def _member_maps(model, X, latent):
    """Every member's map of ``latent`` (n, p, d), in standardised units."""
    module, features = _float64_module(model, X)
    latent = torch.as_tensor(np.array(latent, dtype=np.float64))
    context = module.context(features)
    members = module.transport(latent.expand(module.n_members, *latent.shape), context)
    return members.detach().numpy()


def test_convex_fitted_ensemble_size(two_targets):
    X, Y = two_targets
    model = ConvexQuantileRegressor(max_epochs=2, **CONVEX)
    # Several targets: "auto" (the default) is 20000 // n_rows within 1 to 5.
    assert model.fit(X, Y).n_members_ == 5
    assert model.net_.module_.n_members == 5
    # One target: one network.
    assert model.fit(X, Y[:, 0]).n_members_ == 1
    assert isinstance(model.net_.module_.location, torch.nn.Linear)
    X_big, Y_big, _ = make_two_targets(n_samples=8000, random_state=0)
    big = ConvexQuantileRegressor(max_epochs=1, **CONVEX).fit(X_big, Y_big)
    assert big.n_members_ == 20000 // len(np.unique(X_big, axis=0)) == 2
    single = ConvexQuantileRegressor(max_epochs=2, n_members=1, **CONVEX).fit(X, Y)
    assert single.n_members_ == 1


def test_convex_auto_context_depends_on_the_number_of_targets(two_targets):
    X, Y = two_targets
    options = {**CONVEX, "max_epochs": 2}
    del options["hidden_layer_sizes"]
    model = ConvexQuantileRegressor(**options).fit(X, Y)
    assert model.hidden_layer_sizes == "auto"
    assert model.hidden_layer_sizes_ == (128, 128, 128)
    # "auto" is exactly the explicit setting it resolves to.
    explicit = ConvexQuantileRegressor(
        n_members=5, hidden_layer_sizes=(128, 128, 128), **options
    ).fit(X, Y)
    np.testing.assert_array_equal(
        model.sample(X[:20], 5, random_state=0),
        explicit.sample(X[:20], 5, random_state=0),
    )
    one = ConvexQuantileRegressor(**options).fit(X, Y[:, 0])
    assert (one.hidden_layer_sizes_, one.n_members_) == ((64, 64), 1)
    explicit = ConvexQuantileRegressor(
        n_members=1, hidden_layer_sizes=(64, 64), **options
    ).fit(X, Y[:, 0])
    levels = [0.05, 0.5, 0.95]
    np.testing.assert_array_equal(
        one.predict_quantile(X[:20], levels), explicit.predict_quantile(X[:20], levels)
    )
    # An explicit size is used as given, for any number of targets.
    given = ConvexQuantileRegressor(**CONVEX, max_epochs=1).fit(X, Y)
    assert given.hidden_layer_sizes_ == (16,)


def test_convex_auto_energy_draws_depend_on_the_number_of_targets(two_targets):
    X, Y = two_targets
    options = {**CONVEX, "max_epochs": 2}
    del options["n_energy_samples"]
    model = ConvexQuantileRegressor(**options).fit(X, Y)
    assert model.n_energy_samples == "auto"
    assert model.n_energy_samples_ == model.net_.module_.n_energy_samples == 16
    # "auto" is exactly the explicit setting it resolves to.
    explicit = ConvexQuantileRegressor(n_energy_samples=16, **options).fit(X, Y)
    np.testing.assert_array_equal(
        model.sample(X[:20], 5, random_state=0),
        explicit.sample(X[:20], 5, random_state=0),
    )
    one = ConvexQuantileRegressor(**options).fit(X, Y[:, 0])
    assert one.n_energy_samples_ == one.net_.module_.n_energy_samples == 32
    restored = pickle.loads(pickle.dumps(one))
    assert restored.n_energy_samples_ == 32
    given = ConvexQuantileRegressor(**options, n_energy_samples=5).fit(X, Y)
    assert given.n_energy_samples_ == 5


def test_convex_map_is_the_average_of_the_members_maps(two_targets):
    X, Y = two_targets
    model = ConvexQuantileRegressor(max_epochs=10, n_members=3, **CONVEX).fit(X, Y)
    levels = np.array([[0.02, 0.5], [0.3, 0.9], [0.5, 0.5], [0.97, 0.1]])
    latent = np.broadcast_to(special.ndtri(levels), (40, *levels.shape))
    members = _member_maps(model, X[:40], latent)
    assert members.shape == (3, 40, 4, 2)
    assert np.abs(members[0] - members[1]).max() > 1e-3
    expected = model._y_mean + model._y_scale * members.mean(0)
    np.testing.assert_allclose(
        model.predict_quantile(X[:40], levels), expected, rtol=1e-10, atol=1e-10
    )
    # The average map is the gradient of a convex potential: monotone, and
    # the preimage of each observation is found again (region membership
    # and the CDF rest on it).
    u = np.random.RandomState(0).normal(size=(40, 2, 2))
    images = model._map(model._validated_features(X[:40]), u)
    inner = ((images[:, 0] - images[:, 1]) * (u[:, 0] - u[:, 1])).sum(-1)
    assert (inner >= 0).all()
    preimage = model._inverse(model._validated_features(X[:40]), images[:, 0])
    np.testing.assert_allclose(preimage, u[:, 0], atol=1e-8)


def test_convex_average_scores_no_worse_than_the_mean_member():
    # In one dimension the maps are quantile functions: the average map's
    # quantiles never score a worse pinball loss than the members' mean.
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    X_test, y_test, _ = make_heteroscedastic(n_samples=500, random_state=1)
    model = ConvexQuantileRegressor(max_epochs=20, n_members=4, **CONVEX).fit(X, y)
    levels = midpoint_levels(49)
    latent = np.broadcast_to(special.ndtri(levels)[:, None], (len(X_test), 49, 1))
    members = (
        model._y_mean[0]
        + model._y_scale[0] * _member_maps(model, X_test, latent)[..., 0]
    )
    ensemble = model.predict_quantile(X_test, levels)
    np.testing.assert_allclose(ensemble, members.mean(0), rtol=1e-10, atol=1e-10)
    _check_average_beats_mean_member(ensemble, members, y_test, levels)


def test_convex_each_member_keeps_the_weights_of_its_own_best_epoch(two_targets):
    X, Y = two_targets
    model = ConvexQuantileRegressor(
        max_epochs=60, n_iter_no_change=5, n_members=3, **CONVEX
    ).fit(X, Y)
    history = np.array(model.net_.history[:, "valid_member_losses"])
    assert history.shape == (model.n_iter_, 3)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    best_epochs = np.array(stopper.best_epoch_)
    assert len(set(best_epochs)) > 1
    assert model.n_iter_ in (60, best_epochs.max() + 5)
    # A member's best epoch is better than every earlier one, and no later
    # epoch improved on it by more than tol.
    best = history[best_epochs - 1, np.arange(3)]
    for member in range(3):
        earlier = history[: best_epochs[member] - 1, member]
        later = history[best_epochs[member] :, member]
        assert (best[member] < earlier).all()
        assert (later >= best[member] - model.tol).all()
    # The restored members score their best energy score on their held-out
    # rows (common seeded draws, so the score is deterministic).
    np.testing.assert_allclose(stopper._member_losses(model.net_), best, rtol=1e-5)


def test_convex_members_train_only_on_the_rows_they_do_not_hold_out():
    from skquantile._convex_network import (
        ConvexPotentialNetwork,
        WeightedEnergyScoreLoss,
    )

    torch.manual_seed(0)
    module = ConvexPotentialNetwork(2, 2, (8,), "silu", (4, 4), 6, n_members=3)
    X = torch.randn(6, 2)
    target = torch.cat([torch.randn(6, 2), torch.ones(6, 1), torch.ones(6, 3)], dim=1)
    target[:3, 3 + 1] = 0.0  # member 1 holds out rows 0-2
    latent = torch.randn(3, 6, 6, 2)
    context = module.context(X)
    WeightedEnergyScoreLoss()(module.transport(latent, context), target).backward()
    grad = module.location.bias.grad.clone()
    module.zero_grad()
    moved = target.clone()
    moved[:3, :2] += 100.0
    context = module.context(X)
    WeightedEnergyScoreLoss()(module.transport(latent, context), moved).backward()
    torch.testing.assert_close(module.location.bias.grad[1], grad[1])
    assert not torch.allclose(module.location.bias.grad[0], grad[0])
    assert not torch.allclose(module.location.bias.grad[2], grad[2])


def test_convex_training_draws_differ_between_members():
    from skquantile._convex_network import ConvexPotentialNetwork

    torch.manual_seed(0)
    module = ConvexPotentialNetwork(2, 1, (8,), "silu", (4,), 5, n_members=2)
    draws = module(torch.randn(4, 2))
    assert draws.shape == (2, 4, 5, 1)
    module.eval()
    shared = module(torch.randn(4, 2))
    assert shared.shape == (4, 5, 1)


@pytest.mark.parametrize("n_targets", [1, 2])
def test_convex_ensemble_without_hidden_layers(two_targets, n_targets):
    # The map's layers then read the features themselves: every member gets
    # them (the several-target default made this an ensemble).
    X, Y = two_targets
    Y = Y[:, 0] if n_targets == 1 else Y
    options = {**CONVEX, "hidden_layer_sizes": ()}
    model = ConvexQuantileRegressor(max_epochs=3, n_members=3, **options).fit(X, Y)
    assert model.n_members_ == 3
    levels = [[0.1] * n_targets, [0.5] * n_targets, [0.9] * n_targets]
    if n_targets == 1:
        levels = [0.1, 0.5, 0.9]
    quantiles = model.predict_quantile(X[:30], levels)
    assert np.isfinite(quantiles).all()
    draws = model.sample(X[:30], 50, random_state=0)
    assert draws.shape[:2] == (30, 50) and np.isfinite(draws).all()
    if n_targets == 1:
        assert (np.diff(quantiles, axis=1) > 0).all()
    else:
        assert model.region_contains(X, Y).dtype == bool


def test_convex_auto_sizes_save_load(two_targets, tmp_path):
    X, Y = two_targets
    options = {**CONVEX, "max_epochs": 2}
    del options["hidden_layer_sizes"]
    model = ConvexQuantileRegressor(**options).fit(X, Y)
    save_model(model, tmp_path / "auto.skq")
    restored = load_model(tmp_path / "auto.skq")
    assert restored.get_params() == model.get_params()
    assert (restored.hidden_layer_sizes_, restored.n_members_) == ((128, 128, 128), 5)
    np.testing.assert_array_equal(
        restored.sample(X[:20], 5, random_state=0),
        model.sample(X[:20], 5, random_state=0),
    )


def test_convex_ensemble_save_load(two_targets, tmp_path):
    X, Y = two_targets
    model = ConvexQuantileRegressor(max_epochs=3, n_members=2, **CONVEX).fit(X, Y)
    save_model(model, tmp_path / "convex.skq")
    restored = load_model(tmp_path / "convex.skq")
    assert restored.n_members_ == 2
    np.testing.assert_array_equal(
        restored.sample(X[:20], 5, random_state=0),
        model.sample(X[:20], 5, random_state=0),
    )
    np.testing.assert_array_equal(
        restored.region_contains(X[:50], Y[:50]), model.region_contains(X[:50], Y[:50])
    )
