"""Persistence: pickle, joblib and the code-free save_model/load_model format."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from skquantile import (
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
    load_model,
    save_model,
)
from skquantile.datasets import make_two_targets

FAST = {
    IncrementalQuantileRegressor: dict(
        max_epochs=3, hidden_layer_sizes=(16,), n_knots=8, n_pieces=2
    ),
    ConvexQuantileRegressor: dict(
        max_epochs=3,
        hidden_layer_sizes=(16,),
        potential_layer_sizes=(8,),
        n_energy_samples=4,
    ),
}


def _answers(model, X, Y):
    """Every query of the estimator, as a dict of arrays."""
    answers = {
        "predict": model.predict(X),
        "sample": model.sample(X, 5, random_state=0),
        "interval": model.predict_interval(X, coverage=0.8),
    }
    if isinstance(model, ConvexQuantileRegressor):
        answers["quantile"] = model.predict_quantile(X, [0.2, 0.7])
        answers["region"] = model.predict_region(X, coverage=0.7, n_points=9)
        answers["contains"] = model.region_contains(X, Y, coverage=0.7)
    else:
        answers["quantile"] = model.predict_quantile(X, [0.01, 0.2, 0.99])
        answers["cdf"] = model.predict_cdf(X, Y)
    return answers


@pytest.fixture(params=list(FAST), ids=lambda cls: cls.__name__, scope="module")
def fitted(request):
    X, Y, _ = make_two_targets(n_samples=120, random_state=0)
    params = {**FAST[request.param], "random_state": np.random.RandomState(1)}
    return request.param(**params).fit(X, Y), X, Y


def _assert_same_answers(first, second, X, Y):
    one, two = _answers(first, X, Y), _answers(second, X, Y)
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)


def test_pickle_and_joblib_round_trips_are_bit_identical(fitted, tmp_path):
    model, X, Y = fitted
    _assert_same_answers(model, pickle.loads(pickle.dumps(model)), X, Y)
    joblib.dump(model, tmp_path / "model.joblib")
    _assert_same_answers(model, joblib.load(tmp_path / "model.joblib"), X, Y)


def test_save_and_load_model_are_bit_identical(fitted, tmp_path):
    model, X, Y = fitted
    path = tmp_path / "model.skq"
    save_model(model, path)
    restored = load_model(path)
    assert type(restored) is type(model)
    _assert_same_answers(model, restored, X, Y)
    # Parameters, fitted attributes and the training history come back.
    original, loaded = model.get_params(), restored.get_params()
    assert original.pop("random_state").get_state()[1].tolist() == (
        loaded.pop("random_state").get_state()[1].tolist()
    )
    assert original == loaded
    assert restored.n_iter_ == model.n_iter_
    assert restored.n_features_in_ == model.n_features_in_
    assert [row["train_loss"] for row in restored.net_.history] == [
        row["train_loss"] for row in model.net_.history
    ]
    # Saving the loaded model again gives the same predictions (a file object
    # works as well as a path).
    buffer = io.BytesIO()
    save_model(restored, buffer)
    buffer.seek(0)
    _assert_same_answers(model, load_model(buffer), X, Y)


def test_loaded_model_can_be_cloned_and_refitted(fitted, tmp_path):
    model, X, Y = fitted
    save_model(model, tmp_path / "model.skq")
    restored = load_model(tmp_path / "model.skq")
    refit = clone(restored).set_params(random_state=0).fit(X, Y)
    again = clone(model).set_params(random_state=0).fit(X, Y)
    np.testing.assert_array_equal(refit.predict(X), again.predict(X))


def test_feature_names_and_explicit_knots_survive(tmp_path):
    pd = pytest.importorskip("pandas")
    X, Y, _ = make_two_targets(n_samples=60, random_state=0)
    frame = pd.DataFrame(X, columns=["price", "promo"])
    model = IncrementalQuantileRegressor(
        knots=np.array([0.1, 0.5, 0.9]), max_epochs=2, random_state=0
    ).fit(frame, Y[:, 0])
    save_model(model, tmp_path / "model.skq")
    restored = load_model(tmp_path / "model.skq")
    np.testing.assert_array_equal(restored.feature_names_in_, ["price", "promo"])
    np.testing.assert_array_equal(restored.knots, [0.1, 0.5, 0.9])
    np.testing.assert_array_equal(restored.predict(frame), model.predict(frame))
    with pytest.raises(ValueError, match="feature names"):
        restored.predict(frame.rename(columns={"promo": "other"}))


class _Exploit:
    """Pickles to a call of ``exec``: what a hostile model file would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_loading_never_runs_code_from_the_file(fitted, tmp_path):
    model, _, _ = fitted
    path = tmp_path / "model.skq"
    save_model(model, path)
    payload = torch.load(path, weights_only=True)
    marker = tmp_path / "marker.txt"
    payload["history"] = _Exploit(marker)
    torch.save(payload, path)
    with pytest.raises(ValueError, match="could not be read"):
        load_model(path)
    assert not marker.exists()
    # The same file through pickle's full loader would have run the code.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "missing.skq")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a skquantile model file"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "text.txt").write_text("hello")
    with pytest.raises(ValueError, match="could not be read"):
        load_model(tmp_path / "text.txt")


def test_files_without_the_resolved_training_sizes_still_load(fitted, tmp_path):
    # Files saved before batch_size_, max_epochs_ and n_iter_no_change_ were
    # fitted attributes give the same answers; the training sizes fall back
    # to the parameters (or the lower bound of "auto").
    model, X, Y = fitted
    save_model(model, tmp_path / "model.skq")
    payload = torch.load(tmp_path / "model.skq", weights_only=True)
    for key in ("batch_size_", "max_epochs_", "n_iter_no_change_"):
        del payload["fitted"][key]
    torch.save(payload, tmp_path / "model.skq")
    restored = load_model(tmp_path / "model.skq")
    _assert_same_answers(model, restored, X, Y)
    assert restored.max_epochs_ == model.max_epochs == 3
    assert (restored.batch_size_, restored.n_iter_no_change_) == (32, 20)


def test_files_from_before_pooling_and_ensembles_still_load(tmp_path):
    # A file of a one-network model saved before ``pooling``, ``n_members``
    # and ``n_members_`` existed loads as one network averaging nothing.
    X, Y = make_two_targets(60, random_state=0)[:2]
    model = IncrementalQuantileRegressor(
        **FAST[IncrementalQuantileRegressor], n_members=1
    ).fit(X, Y)
    save_model(model, tmp_path / "model.skq")
    payload = torch.load(tmp_path / "model.skq", weights_only=True)
    del payload["params"]["pooling"], payload["params"]["n_members"]
    del payload["fitted"]["n_members_"]
    torch.save(payload, tmp_path / "model.skq")
    restored = load_model(tmp_path / "model.skq")
    _assert_same_answers(model, restored, X, Y)
    assert (restored.pooling, restored.n_members_) == ("quantiles", 1)


def test_only_the_estimators_state_enters_the_file(fitted, tmp_path):
    # What the file holds is the estimator's declared state: an attribute a
    # user (or a later version) sets on a fitted model is not saved, and
    # cannot make saving fail.
    model, X, Y = fitted
    model = pickle.loads(pickle.dumps(model))
    model.scratch_ = object()
    model._cache = object()
    save_model(model, tmp_path / "model.skq")
    payload = torch.load(tmp_path / "model.skq", weights_only=True)
    assert set(payload["fitted"]) <= set(type(model)._state_attributes)
    restored = load_model(tmp_path / "model.skq")
    assert not hasattr(restored, "scratch_") and not hasattr(restored, "_cache")
    _assert_same_answers(model, restored, X, Y)


def test_load_rejects_a_newer_format(fitted, tmp_path):
    model, _, _ = fitted
    save_model(model, tmp_path / "model.skq")
    payload = torch.load(tmp_path / "model.skq", weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "model.skq")
    with pytest.raises(ValueError, match="newer"):
        load_model(tmp_path / "model.skq")


def test_save_errors(fitted, tmp_path):
    with pytest.raises(NotFittedError):
        save_model(IncrementalQuantileRegressor(), tmp_path / "model.skq")
    X, Y, _ = fitted[1], fitted[2], None
    with pytest.raises(TypeError, match="saves skquantile estimators"):
        save_model(LinearRegression().fit(X, Y), tmp_path / "model.skq")
    model = clone(fitted[0]).set_params(random_state=0).fit(X, Y)
    model.set_params(hidden_layer_sizes=object())
    with pytest.raises(TypeError, match="cannot store hidden_layer_sizes"):
        save_model(model, tmp_path / "model.skq")
    assert not (tmp_path / "model.skq").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA GPU")
@pytest.mark.parametrize("cls", list(FAST), ids=lambda cls: cls.__name__)
def test_model_fitted_on_gpu_moves_to_cpu(cls, tmp_path):
    X, Y, _ = make_two_targets(n_samples=120, random_state=0)
    model = cls(**FAST[cls], random_state=0, device="cuda").fit(X, Y)
    assert model.net_.device == "cuda"
    save_model(model, tmp_path / "model.skq")
    on_cpu = load_model(tmp_path / "model.skq", device="cpu")
    assert on_cpu.device == "cpu"
    assert next(on_cpu.net_.module_.parameters()).device.type == "cpu"
    gpu, cpu = _answers(model, X, Y), _answers(on_cpu, X, Y)
    for key in gpu:
        # Same float64 weights on another device: equal up to rounding.
        np.testing.assert_allclose(cpu[key], gpu[key], rtol=1e-9, atol=1e-12)
    _assert_same_answers(on_cpu, pickle.loads(pickle.dumps(on_cpu)), X, Y)
