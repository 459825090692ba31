"""The command line: the demo and fitting a CSV file."""

import csv

import numpy as np
import pytest

from skquantile.__main__ import main


@pytest.fixture
def table(tmp_path):
    """A CSV file with two features, two targets and a header row."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(200, 2))
    demand = 3.0 * X[:, 0] + rng.normal(size=200)
    returns = demand + rng.normal(size=200)
    path = tmp_path / "sales.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["price", "promo", "demand", "returns"])
        writer.writerows(np.column_stack([X, demand, returns]).tolist())
    return path


def _read(path):
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], np.asarray(rows[1:], dtype=float)


def test_demo_runs_and_reports(capsys):
    main(["--n-samples", "200", "--random-state", "1"])
    out = capsys.readouterr().out
    assert "How much stock covers each service level?" in out
    assert "calibration error" in out


def test_fit_a_csv_and_save_quantiles(table, tmp_path, capsys):
    output = tmp_path / "quantiles.csv"
    main(
        [
            "--csv", str(table), "--target", "demand", "--features", "price", "promo",
            "--levels", "0.1", "0.5", "0.9", "--output", str(output),
            "--max-epochs", "5",
        ]
    )  # fmt: skip
    header, values = _read(output)
    assert header == ["demand_q0.1", "demand_q0.5", "demand_q0.9"]
    assert values.shape == (200, 3)
    assert (np.diff(values, axis=1) >= 0).all()
    assert "Wrote 200 rows" in capsys.readouterr().err


@pytest.mark.parametrize("estimator", ["incremental", "convex"])
def test_several_targets_print_quantiles_of_each(table, capsys, estimator):
    main(
        [
            "--csv", str(table), "--target", "demand", "returns", "--levels", "0.5",
            "0.9", "--estimator", estimator, "--max-epochs", "3",
        ]
    )  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "demand_q0.5,demand_q0.9,returns_q0.5,returns_q0.9"
    assert len(lines) == 201


def test_predict_other_rows(table, tmp_path, capsys):
    new = tmp_path / "new.csv"
    new.write_text("promo,price\n0,0.5\n1,0.9\n")
    main(["--csv", str(table), "--target", "demand", "--predict", str(new),
          "--features", "price", "promo", "--max-epochs", "3"])  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--csv", "missing.csv", "--target", "demand"], "no such file"),
        (["--csv", "{table}", "--target", "sales"], "has no column 'sales'"),
        (["--csv", "{table}"], "--csv needs --target"),
        (["--csv", "{table}", "--target", "demand", "--levels", "1"], "--levels"),
        (["--csv", "{table}", "--target", "demand", "--max-epochs", "0"], "epochs"),
        (["--csv", "{bad}", "--target", "price"], "line 3: column 'price' holds"),
        (["--csv", "{empty}", "--target", "demand"], "header row and at least one"),
        (["--csv", "{gap}", "--target", "price"], "line 2: column 'price' is missing"),
        (["--n-samples", "x"], "invalid int value"),
        (
            ["--csv", "{table}", "--target", "demand", "--features", "demand"],
            "--features includes the target column(s) 'demand'",
        ),
        (["--csv", "{table}", "--target", "demand", "demand"], "more than once"),
        (["--csv", "{twice}", "--target", "demand"], "several columns named 'price'"),
        (["--csv", "{semicolon}", "--target", "demand"], "must be comma-separated"),
        (["--target", "demand"], "--target only apply with --csv"),
        (["--levels", "0.5", "--max-epochs", "2"], "--levels, --max-epochs only"),
        (["--csv", "{table}", "--target", "demand", "--n-samples", "9"], "demo's"),
    ],
)
def test_errors_are_one_line(table, tmp_path, capsys, arguments, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("price,demand\n1,2\nabc,3\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("price,demand\n")
    gap = tmp_path / "gap.csv"
    gap.write_text("price,demand\n,2\n1,3\n")
    twice = tmp_path / "twice.csv"
    twice.write_text("price,price,demand\n1,2,3\n4,5,6\n")
    semicolon = tmp_path / "semicolon.csv"
    semicolon.write_text("price;demand\n1;2\n4;5\n")
    files = {"bad": bad, "empty": empty, "gap": gap, "twice": twice}
    files["semicolon"] = semicolon
    arguments = [a.format(table=table, **files) for a in arguments]
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_output_cut_short_by_the_reader_is_not_an_error(table):
    """``python -m skquantile ... | head`` ends quietly: no BrokenPipeError."""
    import subprocess
    import sys

    # 99 levels of 200 rows: far more than a pipe holds, so the writer is
    # still writing when the reader leaves.
    levels = [f"{level:.2f}" for level in np.arange(1, 100) / 100]
    command = [
        sys.executable, "-m", "skquantile", "--csv", str(table), "--target",
        "demand", "--max-epochs", "1", "--levels", *levels,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().startswith("demand_q")
    process.stdout.close()  # the reader goes away after one line
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_missing_feature_cells_are_missing_values(tmp_path, capsys):
    """An empty feature cell is a missing value, which the estimator fills
    and flags; the row still gets its quantiles."""
    rng = np.random.default_rng(1)
    path = tmp_path / "gaps.csv"
    rows = [[f"{x:.3f}", f"{2 * x + rng.normal():.3f}"] for x in rng.uniform(size=60)]
    rows[3][0] = ""
    path.write_text("price,demand\n" + "\n".join(",".join(row) for row in rows))
    main(["--csv", str(path), "--target", "demand", "--max-epochs", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 61
    assert all(cell != "nan" for cell in lines[4].split(","))


def test_text_columns_are_categorical(tmp_path, capsys):
    """A feature column with text is categorical (an empty cell being a
    missing level); --categorical makes a column of numbers categorical
    too; prediction rows are read with the training file's choice."""
    rng = np.random.default_rng(2)
    stores = rng.choice(["north", "south", "east"], 90)
    sizes = rng.choice([1, 2, 3], 90)
    demand = 5.0 * (stores == "north") + sizes + rng.normal(size=90)
    path = tmp_path / "stores.csv"
    rows = [
        [store, str(size), f"{value:.3f}"]
        for store, size, value in zip(stores, sizes, demand, strict=True)
    ]
    rows[5][0] = ""
    path.write_text("store,size,demand\n" + "\n".join(",".join(r) for r in rows))
    new = tmp_path / "new.csv"
    new.write_text("store,size\nnorth,2\nwest,2\n,3\n")
    arguments = ["--csv", str(path), "--target", "demand", "--max-epochs", "2"]
    main([*arguments, "--predict", str(new), "--categorical", "size"])
    captured = capsys.readouterr()
    assert "Categorical column(s): store, size." in captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 4 and "nan" not in captured.out
    main(arguments)
    assert "Categorical column(s): store." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*arguments, "--categorical", "colour"])
    assert "non-feature column(s): colour" in capsys.readouterr().err
