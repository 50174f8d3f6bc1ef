"""Canonical parameter counts against the published figures."""

import math

import keras
import pytest

from dltoolkit.models import builder_info, get_builder
from dltoolkit.models.summary import (
    count_trainable,
    format_parameter_table,
    parameter_table,
)

# Published figures Keras does not have: the LeNet-5 of the Keras tutorials,
# the single-tower AlexNet and torchvision (resnet18, resnet34: trainable
# parameters, no conv biases). VGG16 and ResNet50 are built from
# keras.applications below.
EXACT = {
    "lenet5": (61_706, "all"),
    "alexnet": (62_378_344, "all"),
    "resnet18": (11_689_512, "trainable"),
    "resnet34": (21_797_672, "trainable"),
}
# Builders that keras.applications also has (``weights=None``: nothing is
# downloaded); its count_params() is the published figure.
KERAS_APPLICATIONS = {"vgg16": "VGG16", "resnet50": "ResNet50"}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_published_counts(name):
    published, counts = EXACT[name]
    (row,) = parameter_table([name])
    assert row["published"] == published
    assert row["counts"] == counts
    assert row["params" if counts == "all" else "trainable"] == published
    assert row["ratio"] == 1.0


@pytest.mark.parametrize(
    "name, size",
    [
        ("resnet50", "canonical"),
        ("resnet50", "small"),
        # VGG-16 at 224x224 builds 138M parameters twice (9 s): opt-in; its
        # layers are the same at the small size, where only the first dense
        # layer's input differs.
        pytest.param("vgg16", "canonical", marks=pytest.mark.slow),
        ("vgg16", "small"),
    ],
)
def test_counts_equal_keras_applications(name, size):
    """Ours equals keras.applications' model, built here without weights, at
    the canonical size (the registered published figure) and at another one."""
    application = getattr(keras.applications, KERAS_APPLICATIONS[name])
    info = builder_info(name)
    shapes = {
        "canonical": (info.canonical_input, info.canonical_classes),
        "small": ((64, 48, 3), 7),
    }
    for shape, classes in [shapes[size]]:
        keras.backend.clear_session()
        reference = application(
            weights=None, input_shape=shape, classes=classes
        ).count_params()
        keras.backend.clear_session()
        assert get_builder(name)(shape, classes).count_params() == reference, shape
        if shape == info.canonical_input:
            assert info.published_params == reference
            assert info.published_counts == "all"
    keras.backend.clear_session()


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


# Szegedy et al., "Going deeper with convolutions" (CVPR 2015), Table 1
# ("GoogLeNet incarnation of the Inception architecture"): the "params" column
# in K = 1024 weights (conv2: 1x1x64x64 + 3x3x64x192 = 114,688 = 112K) and the
# "ops" column in M multiply-adds, one entry per row that has them: the 7x7/2
# convolution, the 3x3/1 convolution (with its 1x1 reduction), the nine
# inception rows and the linear layer. The pooling, dropout and softmax rows
# have none. Rows sum to 6,797.7K params (6.96M weights; 6.8M read as
# thousands) and 1,502M ops.
GOOGLENET_TABLE1 = {
    # row: (params K, ops M, our layers' name prefixes)
    "convolution 7x7/2": (2.7, 34, ("conv1",)),
    "convolution 3x3/1": (112, 360, ("conv2_reduce", "conv2")),
    "inception (3a)": (159, 128, ("inception_3a",)),
    "inception (3b)": (380, 304, ("inception_3b",)),
    "inception (4a)": (364, 73, ("inception_4a",)),
    "inception (4b)": (437, 88, ("inception_4b",)),
    "inception (4c)": (463, 100, ("inception_4c",)),
    "inception (4d)": (580, 119, ("inception_4d",)),
    "inception (4e)": (840, 170, ("inception_4e",)),
    "inception (5a)": (1072, 54, ("inception_5a",)),
    "inception (5b)": (1388, 71, ("inception_5b",)),
    "linear": (1000, 1, ("predictions",)),
}
# Rows whose printed params do not follow from the table's own filter columns
# (our builder takes those columns): conv 7x7/2 prints 2.7K (and 34M ops =
# 2.7K x 112 x 112) where 7x7x3x64 is 9.2K; 4c prints 463K where its filters
# give 497.5K (its 100M ops agree with 497.5K, not 463K); 5a prints 1072K
# (54M ops) where its filters give 1018K.
GOOGLENET_MISPRINTED = {"convolution 7x7/2", "inception (4c)", "inception (5a)"}


def _googlenet_rows(model):
    """Row -> (kernel weights, multiply-adds) of our GoogLeNet at 224x224x3."""
    rows = {}
    for row, (_, _, prefixes) in GOOGLENET_TABLE1.items():
        weights = macs = 0
        for layer in model.layers:
            if not hasattr(layer, "kernel") or not any(
                layer.name == p or layer.name.startswith(f"{p}_") for p in prefixes
            ):
                continue
            size = math.prod(layer.kernel.shape)
            spatial = math.prod(layer.output.shape[1:-1])  # 1 for the Dense
            weights, macs = weights + size, macs + size * spatial
        rows[row] = (weights, macs)
    return rows


def test_googlenet_against_table1_of_the_paper():
    model = get_builder("googlenet")((224, 224, 3), 1000)
    # Table 1 leaves out the two auxiliary classifiers (about 3.2M weights
    # each: 1x1x512x128 conv, 2048x1024 and 1024x1000 dense); so does ours.
    assert not [layer.name for layer in model.layers if "aux" in layer.name]
    rows = _googlenet_rows(model)
    for row, (params_k, ops_m, _) in GOOGLENET_TABLE1.items():
        weights, macs = rows[row]
        assert weights > 0, row
        if row in GOOGLENET_MISPRINTED:
            continue
        # The others agree within 2% (4d: 590.5K vs 580K) or the rounding to
        # whole M ops (linear: 1.024M).
        assert weights / 1024 == pytest.approx(params_k, rel=0.02), row
        assert macs / 1e6 == pytest.approx(ops_m, rel=0.02, abs=0.5), row
    assert rows["inception (4c)"][1] / 1e6 == pytest.approx(100, rel=0.01)

    table_weights = sum(p for p, _, _ in GOOGLENET_TABLE1.values()) * 1024
    table_ops = sum(o for _, o, _ in GOOGLENET_TABLE1.values()) * 1e6
    assert table_weights == pytest.approx(6_960_845, abs=1)  # 6,797.7K
    # The Introduction's budget: "1.5 billion multiply-adds at inference time".
    assert table_ops == 1_502e6
    # Weights: ours exceed the table by 28.7K (0.4%): the misprinted rows
    # (+6.5K, +34.5K, -54.0K) and the others' small differences (5b +21.0K,
    # 4d +10.5K, 4e +7.0K, ...).
    kernels = sum(w for w, _ in rows.values())
    assert kernels == pytest.approx(table_weights, rel=0.01)
    # Table 1 counts no biases; Keras does (one per filter and class: 0.12%).
    biases = sum(w.shape[-1] for w in model.weights if w.path.endswith("bias"))
    assert model.count_params() == kernels + biases
    assert biases / model.count_params() < 0.002
    assert model.count_params() == pytest.approx(table_weights, rel=0.01)
    # Ops: our 7x7x3x64 conv1 costs 118M where the table's 2.7K row costs
    # 34M; the other rows together agree within 1%.
    macs = sum(m for _, m in rows.values())
    conv1 = rows["convolution 7x7/2"][1]
    assert conv1 == 112 * 112 * 7 * 7 * 3 * 64
    assert macs - conv1 == pytest.approx(table_ops - 34e6, rel=0.01)
    # The registered figure (`dltk models` prints it and our ratio to it) is
    # 6.8M: the table's total, 6,797.7K, read in thousands and rounded.
    info = builder_info("googlenet")
    assert info.published_params == round(table_weights / 1024, -2) * 1000
    assert info.published_counts == "all"


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
