"""What makes fits fast: the estimators' torch thread count (``n_jobs``), the
analytic CRPS gradient, the fused optimizer and the float32 shortcut of the
convex map's softplus derivative."""

import sys
import threading

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from skquantile import _convex_network, _threads, _training
from skquantile._piecewise_linear import (
    PiecewiseLinearQuantileFunction,
    crps_closed_form,
)
from skquantile.datasets import make_heteroscedastic

FAST_OVERRIDES = dict(max_epochs=3)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=120, random_state=0)
    return X, y


@pytest.fixture
def caller_threads():
    """Run the test with the caller's torch thread count at 2, then restore it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(previous)


def _seen_threads(monkeypatch):
    """Record torch's thread count at every training batch."""
    seen = []
    original = _training.TensorBatchIterator.__iter__

    def recording(self):
        for item in original(self):
            seen.append(torch.get_num_threads())
            yield item

    monkeypatch.setattr(_training.TensorBatchIterator, "__iter__", recording)
    return seen


def test_default_fits_on_one_thread_and_restores_the_callers_count(
    make, data, caller_threads, monkeypatch
):
    seen = _seen_threads(monkeypatch)
    model = make().fit(*data)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == caller_threads
    model.predict_quantile(data[0], [0.1, 0.9])
    assert torch.get_num_threads() == caller_threads


def test_n_jobs_sets_the_thread_count(make, data, caller_threads, monkeypatch):
    seen = _seen_threads(monkeypatch)
    make(n_jobs=2).fit(*data)
    assert set(seen) == {2}
    assert torch.get_num_threads() == caller_threads


def test_negative_n_jobs_counts_back_from_the_cpus():
    import joblib

    assert _threads.resolve_threads(-1) == joblib.cpu_count()
    assert _threads.resolve_threads(3) == 3


def test_a_callers_limit_is_respected(make, data, monkeypatch):
    previous = torch.get_num_threads()
    monkeypatch.setattr(_threads, "DEFAULT_THREADS", 2)
    try:
        torch.set_num_threads(1)
        assert _threads.resolve_threads(None) == 1
    finally:
        torch.set_num_threads(previous)
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _threads.resolve_threads(None) == 1
    assert torch.get_num_threads() == previous


def test_threads_are_restored_when_fit_fails(make, data, caller_threads):
    X, y = data
    with pytest.raises(ValueError):
        make(n_jobs=1).fit(X, y[:-1])
    assert torch.get_num_threads() == caller_threads


def test_the_thread_count_does_not_change_a_seeded_fit_on_one_thread(make, data):
    """One thread whatever the caller's setting: the same model."""
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        first = make().fit(*data).predict_quantile(data[0], [0.1, 0.5, 0.9])
        torch.set_num_threads(2)
        second = make().fit(*data).predict_quantile(data[0], [0.1, 0.5, 0.9])
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(first, second)


def test_fits_in_threads_do_not_leak_their_counts(make, data):
    """Two Python threads fitting with different n_jobs each train with their
    own count, and leave the process's count as it was."""
    previous = torch.get_num_threads()
    seen = {}

    def fit(n_jobs):
        model = make(n_jobs=n_jobs)
        original = model._training_options

        def options():
            seen[n_jobs] = torch.get_num_threads()
            return original()

        model._training_options = options
        model.fit(*data)

    workers = [threading.Thread(target=fit, args=(n,)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert seen == {1: 1, 2: 2}
    assert torch.get_num_threads() == previous


def test_n_jobs_errors(make, data):
    with pytest.raises(ValueError, match="n_jobs"):
        make(n_jobs=0).fit(*data)
    with pytest.raises(ValueError, match="n_jobs"):
        make(n_jobs=1.5).fit(*data)


def _random_functions(shared_levels, n_rows=7, n_breakpoints=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shape = (n_breakpoints,) if shared_levels else (n_rows, n_breakpoints)
    levels = torch.sort(
        torch.rand(shape, dtype=torch.float64, generator=generator) * 0.9 + 0.05, -1
    ).values
    steps = torch.rand(n_rows, n_breakpoints, dtype=torch.float64, generator=generator)
    values = torch.cumsum(steps + 0.1, -1) - 2.0
    scales = torch.rand(2, n_rows, dtype=torch.float64, generator=generator) + 0.2
    z = 3.0 * torch.randn(n_rows, dtype=torch.float64, generator=generator)
    # Observations in both tails and inside, at a breakpoint too.
    z[0], z[1], z[2] = values[0, 0] - 5.0, values[1, -1] + 5.0, values[2, 3]
    tensors = (levels, values, scales[0], scales[1], z)
    return tuple(tensor.clone().requires_grad_() for tensor in tensors)


@pytest.mark.parametrize("shared_levels", [True, False])
def test_analytic_crps_gradient_is_the_gradient_of_the_score(shared_levels):
    """The gradient along levels, values, tail scales and observation agrees
    with finite differences of the score (observations in both tails, inside
    and on a breakpoint); the score itself is checked against numerical
    integration in test_quantile_function.py."""
    inputs = _random_functions(shared_levels)

    def score(*tensors):
        return crps_closed_form(
            PiecewiseLinearQuantileFunction(*tensors[:4]), tensors[4]
        )

    assert torch.autograd.gradcheck(score, inputs)


def test_crps_gradient_of_the_observation_is_twice_the_pit_minus_one():
    levels, values, left, right, z = _random_functions(False)
    function = PiecewiseLinearQuantileFunction(levels, values, left, right)
    (grad_z,) = torch.autograd.grad(crps_closed_form(function, z).sum(), z)
    pit = function.cdf(z[:, None])[:, 0]
    torch.testing.assert_close(grad_z, 2.0 * pit - 1.0)


def _train_with(optimizer_class, n_steps=50):
    """The parameters of a small network after ``n_steps`` steps of
    ``optimizer_class`` (with weight decay), from a fixed start."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.GELU(), torch.nn.Linear(16, 3)
    )
    optimizer = optimizer_class(net.parameters(), lr=3e-3, weight_decay=1e-2)
    X, Y = torch.randn(32, 4), torch.randn(32, 3)
    for _ in range(n_steps):
        optimizer.zero_grad()
        ((net(X) - Y) ** 2).mean().backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_fused_adamw_matches_torchs_adamw():
    """The fused kernel makes the same update up to float32 rounding."""
    reference = _train_with(torch.optim.AdamW)
    torch.testing.assert_close(
        _train_with(_training.AdamW), reference, rtol=0, atol=1e-5
    )


def test_tensor_list_fallback_is_torchs_adamw(monkeypatch):
    """Where the fused kernel does not run, the tensor-list update gives
    torch's AdamW."""
    monkeypatch.setattr(_training, "_FUSED_DTYPES", ())
    torch.testing.assert_close(
        _train_with(_training.AdamW),
        _train_with(torch.optim.AdamW),
        rtol=1e-6,
        atol=1e-7,
    )


def test_fitting_does_not_import_torch_dynamo():
    """torch's own optimizers import torch._dynamo (seconds in every new
    process); a fit must not."""
    import subprocess

    script = (
        "import sys\n"
        "from skquantile import IncrementalQuantileRegressor\n"
        "from skquantile.datasets import make_heteroscedastic\n"
        "X, y, _ = make_heteroscedastic(n_samples=100, random_state=0)\n"
        "IncrementalQuantileRegressor(max_epochs=2, hidden_layer_sizes=(8,),"
        " n_knots=5).fit(X, y).predict(X)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_softplus_derivative_is_one_exactly_where_softplus_is_the_identity(dtype):
    values = torch.linspace(-30.0, 60.0, 20001, dtype=dtype)
    slope = _convex_network.softplus_derivative(values)
    threshold = _convex_network.softplus_threshold(dtype)
    expected = torch.where(values > threshold, 1.0, torch.sigmoid(values))
    assert torch.equal(slope, expected)
    assert (slope[values > threshold] == 1.0).all()
    # Above the threshold the softplus is the identity.
    identity = values > threshold
    activation = _convex_network.convex_softplus(values)
    assert torch.equal(activation[identity], values[identity])
