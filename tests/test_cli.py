"""The dltk command."""

import dataclasses
import json

import pytest

from dltoolkit.apps import APPS, get_app
from dltoolkit.cli import main
from dltoolkit.training.config import describe_settings


def test_models_table(capsys):
    assert main(["models", "lenet5", "mlp"]) == 0
    out = capsys.readouterr().out
    lenet = next(line for line in out.splitlines() if line.startswith("lenet5"))
    assert "32x32x1" in lenet
    assert lenet.count("61,706") >= 2  # ours and the published count


def test_models_names(capsys):
    assert main(["models", "--names"]) == 0
    names = capsys.readouterr().out.split()
    assert {"mlp", "lenet5", "alexnet", "zfnet", "vgg16", "googlenet"} <= set(names)
    assert {"resnet18", "resnet34", "resnet50"} <= set(names)


def test_unknown_model(capsys):
    assert main(["models", "lenet6"]) == 2
    assert "Unknown builder 'lenet6'. Known builders:" in capsys.readouterr().err


# === The apps through dltk ===


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == "dltk 0.1.0"


def test_help_lists_the_app_commands_and_the_apps(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("train", "evaluate", "predict", "export", "tune", "demo", *APPS):
        assert word in out, word


@pytest.mark.parametrize("name", APPS)
def test_every_setting_of_every_app_has_a_type_value_and_meaning(name):
    app = get_app(name)
    rows = describe_settings(app.resolve("quick"), app.data_fields)
    fields = [f.name for f in dataclasses.fields(app.config_cls)]
    assert sorted(r["key"] for r in rows) == sorted(fields)
    missing = [r["key"] for r in rows if not r["meaning"]]
    assert missing == [], f"{name}: no docstring meaning for {missing}"
    groups = {r["key"]: r["group"] for r in rows}
    assert groups["data"] == "data" and groups["learning_rate"] == "optimizer"
    assert groups["epochs"] == "training"
    assert set(app.data_fields) <= set(fields)


def test_app_config_prints_the_profile_values_grouped(capsys):
    assert main(["classify", "config", "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "classify settings, profile smoke:"
    headings = [line for line in out.splitlines()[1:] if line.endswith(":")]
    assert headings == ["data:", "model:", "training:", "optimizer:"]
    epochs = next(line.split() for line in out.splitlines() if "  epochs " in line)
    assert epochs[:3] == ["epochs", "int", "1"]  # the smoke profile's value
    assert "maximum number of epochs." in " ".join(epochs)
    # Both word orders, and --set, reach the same command.
    assert main(["config", "classify", "--set", "epochs=7"]) == 0
    epochs = next(
        line.split()
        for line in capsys.readouterr().out.splitlines()
        if "  epochs " in line
    )
    assert epochs[2] == "7"


def test_train_help_points_to_config(capsys):
    with pytest.raises(SystemExit):
        main(["train", "classify", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "dltk classify config" in out and "--set KEY=VALUE" in out


def test_an_app_command_without_an_app_is_one_clear_line(capsys):
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "train needs an app: classify, sentiment" in err


def test_dltk_train_prints_the_run_dir_first_and_the_report_and_export_last(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "classify", "--profile", "smoke"]) == 0
    lines = capsys.readouterr().out.splitlines()
    run_dir = lines[0].removeprefix("run dir: ")
    assert lines[0].startswith("run dir: runs/classify/")
    assert lines[-2] == f"report: {run_dir}/report.md"
    assert lines[-1] == f"export: {run_dir}/export"
    metrics = json.loads((tmp_path / run_dir / "metrics.json").read_text())
    assert metrics["export"] == f"{run_dir}/export"
    assert (tmp_path / run_dir / "export" / "saved_model.pb").is_file()
