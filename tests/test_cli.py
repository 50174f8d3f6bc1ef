"""The dltk command."""

from dltoolkit.cli import main


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
