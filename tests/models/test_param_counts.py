"""Canonical parameter counts against the published figures."""

import keras
import numpy as np
import pytest

from dltoolkit.models import builder_info, get_builder
from dltoolkit.models.googlenet import INCEPTION_V1
from dltoolkit.models.summary import (
    count_trainable,
    format_parameter_table,
    parameter_table,
)

# Published figures: the LeNet-5 of the Keras tutorials, the single-tower
# AlexNet, keras.applications (VGG16, ResNet50: all weights) and torchvision
# (resnet18, resnet34: trainable parameters, no conv biases).
EXACT = {
    "lenet5": (61_706, "all"),
    "alexnet": (62_378_344, "all"),
    "vgg16": (138_357_544, "all"),
    "resnet18": (11_689_512, "trainable"),
    "resnet34": (21_797_672, "trainable"),
    "resnet50": (25_636_712, "all"),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_published_counts(name):
    published, counts = EXACT[name]
    (row,) = parameter_table([name])
    assert row["published"] == published
    assert row["counts"] == counts
    assert row["params" if counts == "all" else "trainable"] == published
    assert row["ratio"] == 1.0


def test_resnet50_without_conv_biases_is_torchvision():
    model = get_builder("resnet50")((224, 224, 3), 1000, use_bias=False)
    assert count_trainable(model) == 25_557_032
    # Keras counts the batch-norm moving mean and variance too.
    assert model.count_params() == 25_557_032 + 2 * 26_560


def test_zfnet_count():
    convs = 96 * (7 * 7 * 3 + 1) + 256 * (5 * 5 * 96 + 1)
    convs += 384 * (9 * 256 + 1) + 384 * (9 * 384 + 1) + 256 * (9 * 384 + 1)
    dense = (6 * 6 * 256 + 1) * 4096 + 4097 * 4096 + 4097 * 1000
    (row,) = parameter_table(["zfnet"])
    assert row["params"] == convs + dense == 62_357_608
    assert row["params"] == pytest.approx(62.4e6, rel=1e-3)  # "about 62.4M"
    assert row["published"] is None


def _googlenet_weights():
    """Weights (no biases) of Table 1 of the paper, enumerated layer by layer."""
    weights, channels = 7 * 7 * 3 * 64 + 64 * 64 + 3 * 3 * 64 * 192, 192
    for entry in INCEPTION_V1:
        if entry == "pool":
            continue
        f1, f3r, f3, f5r, f5, fp = entry[1]
        weights += channels * (f1 + f3r + f5r + fp) + 9 * f3r * f3 + 25 * f5r * f5
        channels = f1 + f3 + f5 + fp
    return weights + channels * 1000, channels


def test_googlenet_count():
    weights, channels = _googlenet_weights()
    assert channels == 1024
    model = get_builder("googlenet")((224, 224, 3), 1000)
    biases = sum(w.shape[-1] for w in model.weights if w.path.endswith("bias"))
    assert model.count_params() == weights + biases == 6_998_552
    # Table 1 counts weights in units of 1024 (3a: "159K" = 163,328 weights);
    # its 6.8M total is within 2% of ours read that way.
    assert weights / 1024 / 1000 == pytest.approx(6.8, rel=0.02)
    # Against the nominal 6.8M the ratio is 1.029 (the registered figure).
    assert builder_info("googlenet").published_params == 6_800_000
    assert model.count_params() / 6_800_000 == pytest.approx(1.0, abs=0.03)


def test_format_parameter_table():
    rows = parameter_table(["lenet5", "mlp"])
    text = format_parameter_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == [
        "builder",
        "input",
        "classes",
        "params",
        "trainable",
        "published",
        "counts",
        "ratio",
    ]
    assert set(lines[1]) <= {"-", " "}
    assert "61,706" in lines[2] and lines[2].endswith("1.0000")
    assert lines[3].startswith("mlp") and lines[3].endswith("-")
    # Right-aligned numbers end in the same column.
    assert lines[2].index("61,706") + 6 == lines[0].index("params") + 6
    keras.backend.clear_session()


# Table 1 of Szegedy et al. (2014), "params" column, in units of K = 1024.
GOOGLENET_TABLE1_K = {
    "conv1": 2.7,
    "conv2": 112,
    "inception_3a": 159,
    "inception_3b": 380,
    "inception_4a": 364,
    "inception_4b": 437,
    "inception_4c": 463,
    "inception_4d": 580,
    "inception_4e": 840,
    "inception_5a": 1072,
    "inception_5b": 1388,
    "predictions": 1000,
}


def test_googlenet_weights_match_table1_total():
    """Our weights (no biases) total the paper's own Table 1 column.

    Rows of the printed table do not all follow from its filter counts (4c
    reads 463K where its filters give 497.5K, 5a 1072K where they give 1018K),
    but the column total, 6,797.7K, is within 0.5% of ours (6,826.4K), and
    so is the abstract's "6.8M" read in the same units.
    """
    model = get_builder("googlenet")((224, 224, 3), 1000)
    kernels = sum(
        int(np.prod(w.shape)) for w in model.weights if w.path.endswith("kernel")
    )
    ours_k = kernels / 1024
    assert ours_k == pytest.approx(6826.4, abs=0.1)
    assert ours_k == pytest.approx(sum(GOOGLENET_TABLE1_K.values()), rel=0.005)
