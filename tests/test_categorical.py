"""Categorical columns encoded inside the estimators (``categorical_features``)."""

import numpy as np
import pytest

from skquantile import (
    CalibratedQuantileRegressor,
    ConvexQuantileRegressor,
    IncrementalQuantileRegressor,
    load_model,
    save_model,
)
from skquantile._categorical import MAX_LEVELS, fit_levels, one_hot

pd = pytest.importorskip("pandas")

ESTIMATORS = [IncrementalQuantileRegressor, ConvexQuantileRegressor]
FAST = {"max_epochs": 3, "hidden_layer_sizes": (16,), "random_state": 0}


def _msleep_like(n=240, seed=0):
    """A frame shaped like ggplot2's ``msleep``: a text column with many
    levels, a ``category`` column with missing values, numbers with missing
    values; the target depends on the categories."""
    rng = np.random.default_rng(seed)
    genus = rng.choice([f"genus {k}" for k in range(12)], n)
    vore = rng.choice(["carni", "herbi", "omni", "insecti"], n)
    vore = pd.Categorical(np.where(rng.random(n) < 0.1, None, vore))
    bodywt = np.exp(rng.normal(size=n))
    brainwt = np.where(rng.random(n) < 0.25, np.nan, bodywt / 100)
    frame = pd.DataFrame(
        {"genus": genus, "vore": vore, "bodywt": bodywt, "brainwt": brainwt}
    )
    y = (
        10
        - np.log(bodywt)
        + 3.0 * (frame["vore"] == "herbi").to_numpy()
        + (genus == "genus 0")
        + rng.normal(scale=0.5, size=n)
    )
    return frame, y


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_frame_with_text_categories_and_missing_values_fits_directly(cls):
    frame, y = _msleep_like()
    model = cls(**FAST).fit(frame, y)
    np.testing.assert_array_equal(model._categorical_columns, [0, 1])
    assert list(model.feature_names_in_) == list(frame.columns)
    # 12 genera; 4 diets plus the missing level; one indicator for brainwt.
    assert model._category_flags.tolist() == [[False, False], [True, False]]
    assert len(model._category_levels[0]) == 12
    quantiles = model.predict(frame[:5], quantiles=[0.1, 0.5, 0.9])
    assert quantiles.shape == (5, 3)
    assert np.all(np.isfinite(quantiles)) and np.all(np.diff(quantiles, axis=1) > 0)


def test_native_encoding_learns_the_categories():
    """Trained long enough, the model tells the diets apart: the one that
    adds 3 to the target is predicted about 3 higher."""
    frame, y = _msleep_like(n=600)
    model = IncrementalQuantileRegressor(max_epochs=60, random_state=0).fit(frame, y)
    rows = frame.iloc[[0, 0]].copy()
    rows["vore"] = pd.Categorical(["herbi", "carni"])
    herbi, carni = model.predict(rows)
    assert 2.0 < herbi - carni < 4.0


def test_a_frame_through_a_pipeline_with_a_sparse_one_hot_encoder():
    """The same frame through a ColumnTransformer whose OneHotEncoder keeps
    its default sparse output: the sparse matrix is accepted."""
    import scipy.sparse as sp
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame, y = _msleep_like()
    frame["vore"] = frame["vore"].astype(object).where(frame["vore"].notna(), "none")
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["genus", "vore"]),
            remainder="passthrough",
        ),
        IncrementalQuantileRegressor(**FAST),
    )
    assert sp.issparse(model[0].fit_transform(frame))
    model.fit(frame, y)
    assert model.predict(frame[:4], quantiles=[0.05, 0.95]).shape == (4, 2)
    assert model[-1]._categorical_columns.size == 0


def _encoded(model, X):
    return model._validated_array(X, reset=False)


@pytest.mark.parametrize(
    "spec", [[True, True, False, False], [0, 1], [-4, -3], ["genus", "vore"]]
)
def test_explicit_choices_of_columns_agree_with_from_dtype(spec):
    frame, y = _msleep_like()
    automatic = IncrementalQuantileRegressor(**FAST).fit(frame, y)
    explicit = IncrementalQuantileRegressor(**FAST, categorical_features=spec)
    explicit.fit(frame, y)
    np.testing.assert_array_equal(explicit._categorical_columns, [0, 1])
    np.testing.assert_array_equal(explicit.predict(frame), automatic.predict(frame))


def test_integer_codes_of_an_array_can_be_declared_categorical():
    """Columns of a plain array are numbers unless named; declared, integer
    codes become levels, and 3 and 3.0 are the same level."""
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.integers(0, 4, 200), rng.normal(size=200)])
    y = 2.0 * (X[:, 0] == 3) + X[:, 1]
    model = IncrementalQuantileRegressor(**FAST, categorical_features=[0]).fit(X, y)
    assert sorted(model._category_levels[0]) == ["0", "1", "2", "3"]
    as_objects = np.array([[3, 0.5], [1, 0.5]], dtype=object)
    np.testing.assert_array_equal(
        _encoded(model, X[:2])[:, 1:],
        _encoded(model, X[:2].astype(np.float32))[:, 1:],
    )
    encoded = _encoded(model, as_objects)
    level = list(model._category_levels[0]).index("3")
    assert encoded[0, 1 + level] == 1.0 and encoded[0, 1:].sum() == 1.0
    # An array is never categorical by dtype: "from_dtype" leaves it numeric.
    numeric = IncrementalQuantileRegressor(**FAST).fit(X, y)
    assert numeric._categorical_columns.size == 0
    assert _encoded(numeric, X).shape == X.shape


def test_unseen_rare_and_missing_levels():
    """An unseen level sets the "other" input if training grouped rare
    levels, and no input otherwise; so does a missing value in a column
    that had none in training."""
    many = np.array([f"level {k}" for k in range(MAX_LEVELS + 8)], dtype=object)
    column = np.concatenate([np.repeat(many[:MAX_LEVELS], 3), many[MAX_LEVELS:]])
    levels, flags = fit_levels(column, np.ones(len(column)))
    assert len(levels) == MAX_LEVELS and flags.tolist() == [False, True]
    assert set(levels) == set(many[:MAX_LEVELS])
    encoded = one_hot(
        np.array(["level 35", "never seen", None], dtype=object), levels, flags
    )
    np.testing.assert_array_equal(encoded[:, -1], [1.0, 1.0, 0.0])
    assert encoded[:, :-1].sum() == 0.0 and encoded[2].sum() == 0.0

    few, few_flags = fit_levels(np.array(["a", "b", "a"], dtype=object), np.ones(3))
    assert few.tolist() == ["a", "b"] and few_flags.tolist() == [False, False]
    assert one_hot(np.array(["c"], dtype=object), few, few_flags).tolist() == [[0, 0]]


def test_level_frequencies_are_weighted():
    """A weight of two counts like a repeated row, and a level whose rows
    all weigh zero is not a level."""
    column = np.array(["a", "b", "b", "c"], dtype=object)
    levels, _ = fit_levels(column, np.array([3.0, 1.0, 1.0, 0.0]))
    assert levels.tolist() == ["a", "b"]
    repeated, _ = fit_levels(
        np.array(["a", "a", "a", "b", "b"], dtype=object), np.ones(5)
    )
    assert repeated.tolist() == levels.tolist()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_save_and_load_keep_the_encoding(cls, tmp_path):
    frame, y = _msleep_like()
    model = cls(**FAST).fit(frame, y)
    save_model(model, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    new = frame[:6].copy()
    new.loc[new.index[0], "genus"] = "never seen"
    np.testing.assert_allclose(loaded.predict(new), model.predict(new))


def test_calibration_on_held_out_rows_of_a_frame():
    """The members' held-out rows are found again in a frame with categories."""
    frame, y = _msleep_like()
    model = CalibratedQuantileRegressor(
        IncrementalQuantileRegressor(**FAST), cv="members"
    ).fit(frame, y)
    assert model.calibration_scores_.shape[0] > 0
    assert model.predict_interval(frame[:3], coverage=0.8).shape == (3, 2)


def test_predict_needs_the_training_columns():
    frame, y = _msleep_like()
    model = IncrementalQuantileRegressor(**FAST).fit(frame, y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[["vore", "genus", "bodywt", "brainwt"]])
    with pytest.raises(ValueError, match="now missing:\n- brainwt"):
        model.predict(frame.iloc[:, :3])
    changed = frame[:3].copy()
    changed["bodywt"] = ["heavy", "light", "heavy"]
    with pytest.raises(ValueError, match=r"'bodywt'"):
        model.predict(changed)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("auto", "categorical_features"),
        ([5], r"indices outside \[0, 4\)"),
        ([True, False], "one entry per column of X \\(4\\)"),
        (["genus", "weight"], r"does not have: \['weight'\]"),
        ([[0, 1]], "1-d"),
        ([0.5], "categorical_features must be"),
    ],
)
def test_bad_choices_of_categorical_columns(spec, message):
    frame, y = _msleep_like(n=40)
    model = IncrementalQuantileRegressor(**FAST, categorical_features=spec)
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(frame, y)


def test_column_names_need_a_frame():
    X = np.zeros((20, 2))
    model = IncrementalQuantileRegressor(**FAST, categorical_features=["a"])
    with pytest.raises(ValueError, match="X has no column names"):
        model.fit(X, np.arange(20.0))


def test_one_hot_inputs_are_left_as_zero_and_one():
    """The inputs of the levels are not standardised (every level starts out
    on the same footing however rare); the numeric columns are."""
    frame, y = _msleep_like()
    model = IncrementalQuantileRegressor(**FAST).fit(frame, y)
    inputs = model._one_hot_inputs()
    assert list(inputs) == list(range(2, 2 + 12 + 5))
    np.testing.assert_array_equal(model._x_mean[inputs], 0.0)
    np.testing.assert_array_equal(model._x_scale[inputs], 1.0)
    assert model._x_scale[0] != 1.0
    # A refit on numbers only forgets the categories.
    model.fit(frame[["bodywt", "brainwt"]], y)
    assert len(model._one_hot_inputs()) == 0 and model._category_levels == []
