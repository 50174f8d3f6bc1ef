"""Recursive networks: smoke test, composition, tree encoding, greedy parsing."""

import keras
import numpy as np
import pytest

from dltoolkit.layers import TreeComposition
from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.recursive import greedy_parse, tree_to_merges, trees_to_inputs

NUM_CLASSES = 3
MAX_LEAVES = 4
TINY = {"vocab_size": 11, "dim": 8}
# Trees of different shapes in one batch; leaves are token ids.
TREES = [((1, 2), 3), (4, (5, 6)), (7, 8), 9]
INPUTS = trees_to_inputs(TREES, MAX_LEAVES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


# === Smoke test ===


@pytest.mark.parametrize("name", list_builders("recursive"))
def test_builder_smoke(name, tmp_path):
    build = get_builder(name)
    # With the parsing loss, so that the train step covers it too.
    model = build((MAX_LEAVES,), NUM_CLASSES, parse_loss_weight=0.5, **TINY)
    probs = _numpy(model(INPUTS, training=False))
    assert probs.shape == (len(TREES), NUM_CLASSES)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(model.train_on_batch(INPUTS, np.array([0, 2, 1, 0])))
    expected = _numpy(model(INPUTS, training=False))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_numpy(clone(INPUTS)), expected, atol=1e-6)

    model.save(tmp_path / "recursive.keras")
    reloaded = keras.models.load_model(tmp_path / "recursive.keras")
    np.testing.assert_allclose(_numpy(reloaded(INPUTS)), expected, atol=1e-6)


@pytest.mark.parametrize(
    "shape, options, match",
    [
        ((4,), {"vocab_size": None}, "vocab_size"),
        ((4, 2), TINY, "max_leaves"),
        ((4,), {**TINY, "dim": 0}, "dim"),
        ((4,), {**TINY, "activation": "nope"}, "activation"),
        ((4,), {**TINY, "parse_loss_weight": -1.0}, "parse_loss_weight"),
        ((4,), {**TINY, "classifier_activation": "relu"}, "classifier_activation"),
    ],
)
def test_bad_options_name_the_argument(shape, options, match):
    with pytest.raises(ValueError, match=match):
        get_builder("recursive")(shape, NUM_CLASSES, **options)


def test_node_outputs_classify_every_node():
    model = get_builder("recursive")(
        (MAX_LEAVES,), NUM_CLASSES, node_outputs=True, **TINY
    )
    out = model(INPUTS)
    assert out["root"].shape == (4, NUM_CLASSES)
    assert out["nodes"].shape == (4, 2 * MAX_LEAVES - 1, NUM_CLASSES)
    # The root's row of the node outputs is the root output (shared weights).
    np.testing.assert_allclose(_numpy(out["nodes"])[0, 5], _numpy(out["root"])[0])
    node_labels = np.full((4, 2 * MAX_LEAVES - 1), -1)  # -1: unused slot
    node_labels[:, 0] = 1
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    model.compile("adam", {"root": "sparse_categorical_crossentropy", "nodes": loss})
    labels = {"root": np.array([0, 1, 2, 0]), "nodes": node_labels}
    assert np.all(np.isfinite(model.train_on_batch(INPUTS, labels)))


# === Composition ===


def test_composition_equals_numpy_bottom_up():
    model = get_builder("recursive")((MAX_LEAVES,), NUM_CLASSES, **TINY)
    table = model.get_layer("embedding").get_weights()[0]
    kernel, bias, _ = model.get_layer("composition").get_weights()
    V, c = model.get_layer("predictions").get_weights()

    def compose(c1, c2):  # p = tanh(W [c1; c2] + b)
        return np.tanh(np.concatenate([c1, c2]) @ kernel + bias)

    e = table[np.arange(10)]
    roots = [
        compose(compose(e[1], e[2]), e[3]),  # ((1, 2), 3)
        compose(e[4], compose(e[5], e[6])),  # (4, (5, 6))
        compose(e[7], e[8]),  # (7, 8), padded
        e[9],  # a single leaf is its own root
    ]
    probe = keras.Model(model.input, model.get_layer("composition").output)
    nodes, root = (_numpy(t) for t in probe(INPUTS))
    np.testing.assert_allclose(root, np.stack(roots), atol=1e-5)
    np.testing.assert_allclose(nodes[0, 4], compose(e[1], e[2]), atol=1e-5)
    np.testing.assert_allclose(nodes[1, 4], compose(e[5], e[6]), atol=1e-5)
    assert np.all(nodes[2, 5:] == 0) and np.all(nodes[3, 4:] == 0)  # unused
    logits = np.stack(roots) @ V + c
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(_numpy(model(INPUTS)), softmax, atol=1e-5)


def test_parse_loss_equals_numpy_hinge():
    layer = TreeComposition(parse_loss_weight=2.0)
    leaves = np.random.default_rng(0).normal(size=(1, 3, 4)).astype("float32")
    _, merges = tree_to_merges(((0, 1), 2))
    layer([leaves, merges[None]], training=False)
    assert layer.losses == [] and layer.score_kernel.trainable
    layer([leaves, merges[None]], training=True)
    kernel, bias, w_score = layer.get_weights()

    def score(c1, c2):
        return np.tanh(np.concatenate([c1, c2]) @ kernel + bias) @ w_score

    a, b, c = leaves[0]
    # Merge 1: gold (a, b) against (b, c); merge 2 has no other pair.
    hinge = max(0.0, 1.0 + score(b, c) - score(a, b))
    np.testing.assert_allclose(_numpy(layer.losses[0]), 2.0 * hinge / 2, rtol=1e-5)
    fixed = TreeComposition()  # no parsing loss: W_score is not trained
    fixed.build([(None, 3, 4), (None, 2, 2)])
    assert not fixed.score_kernel.trainable


# === Tree encoding ===


def test_tree_to_merges_bottom_up_over_a_node_buffer():
    leaves, merges = tree_to_merges((("the", "cat"), ("sat", ("on", "mat"))))
    assert leaves == ["the", "cat", "sat", "on", "mat"]
    # Slots 0-4 are the leaves; merges fill slots 5, 6, 7 and the root 8.
    np.testing.assert_array_equal(merges, [[0, 1], [3, 4], [2, 6], [5, 7]])
    leaves, merges = tree_to_merges(((0, 1), 2), max_leaves=5)
    assert leaves == [0, 1, 2]
    np.testing.assert_array_equal(merges, [[0, 1], [5, 2], [-1, -1], [-1, -1]])
    leaves, merges = tree_to_merges("word", max_leaves=2)
    assert leaves == ["word"] and merges.tolist() == [[-1, -1]]


@pytest.mark.parametrize(
    "tree, max_leaves, match",
    [
        (("a", "b", "c"), None, "exactly 2 children; the node at the root has 3"),
        (("a", ("b",)), None, "at path 1 has 1"),
        ((("a", "b"), "c"), 2, "3 leaves"),
    ],
)
def test_tree_to_merges_errors(tree, max_leaves, match):
    with pytest.raises(ValueError, match=match):
        tree_to_merges(tree, max_leaves)


def test_trees_to_inputs_errors():
    with pytest.raises(ValueError, match="'dog' of tree 0 is not in the vocabulary"):
        trees_to_inputs([("the", "dog")], 3, {"the": 1})
    with pytest.raises(ValueError, match="token ids"):
        trees_to_inputs([("the", "dog")], 3)


# === Greedy parsing ===

# p = tanh(c1 + c2) and s = p[0]: the pair with the largest first coordinate
# sum merges first.
HAND = {
    "W": np.concatenate([np.eye(2), np.eye(2)]),
    "b": np.zeros(2),
    "W_score": np.array([1.0, 0.0]),
}
LEAVES = np.array([[0.1, 0.0], [0.9, 0.0], [0.8, 0.0], [-0.5, 0.0]])


def test_greedy_parse_with_a_hand_set_score():
    tree, root = greedy_parse(HAND, LEAVES)
    # (1, 2) scores tanh(1.7); then (0, (1, 2)) tanh(1.03) beats the right
    # pair tanh(0.43); the last merge takes leaf 3.
    assert tree == ((0, (1, 2)), 3)
    inner = np.tanh(LEAVES[0] + np.tanh(LEAVES[1] + LEAVES[2]))
    np.testing.assert_allclose(root, np.tanh(inner + LEAVES[3]), atol=1e-6)
    labelled, _ = greedy_parse(HAND, LEAVES, leaves=["a", "b", "c", "d"])
    assert labelled == (("a", ("b", "c")), "d")
    assert greedy_parse(HAND, LEAVES[:1])[0] == 0


def test_greedy_parse_reads_the_model_weights():
    model = get_builder("recursive")((MAX_LEAVES,), NUM_CLASSES, vocab_size=5, dim=2)
    model.get_layer("composition").set_weights([HAND["W"], HAND["b"], HAND["W_score"]])
    assert greedy_parse(model, LEAVES)[0] == ((0, (1, 2)), 3)
    with pytest.raises(ValueError, match=r"shaped \(num_leaves >= 1, 2\)"):
        greedy_parse(model, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="TreeComposition"):
        greedy_parse(get_builder("mlp")((4,), 2), LEAVES)


# === Learnability ===

VOCAB = {"good": 1, "bad": 2, "not": 3, "very": 4, "the": 5, "movie": 6}


def _sentiment(tree):
    if isinstance(tree, str):
        return {"good": 1, "bad": 0}[tree]
    left, right = tree
    return 1 - _sentiment(right) if left == "not" else _sentiment(right)


def _words(tree):
    return [tree] if isinstance(tree, str) else _words(tree[0]) + _words(tree[1])


def test_learns_negation_and_the_trees():
    trees = []
    for word in ("good", "bad"):
        trees += [word, (("the", "movie"), word)]
        for m in ("not", "very"):
            trees += [(m, word), (("the", "movie"), (m, word))]
            trees += [(m, (m2, word)) for m2 in ("not", "very")]
    labels = np.array([_sentiment(t) for t in trees])
    model = get_builder("recursive")(
        (MAX_LEAVES,), 2, vocab_size=7, dim=8, parse_loss_weight=1.0
    )
    model.compile(keras.optimizers.Adam(0.1), "sparse_categorical_crossentropy")
    inputs = trees_to_inputs(trees, MAX_LEAVES, VOCAB)
    model.fit(inputs, labels, epochs=60, batch_size=len(trees), verbose=0)
    # "not good", "not not good", "the movie not bad": all right.
    np.testing.assert_array_equal(_numpy(model(inputs)).argmax(-1), labels)
    # The learned score rebuilds every gold tree greedily.
    embedding = model.get_layer("embedding")
    for tree in trees:
        words = _words(tree)
        vectors = _numpy(embedding(np.array([VOCAB[w] for w in words])))
        assert greedy_parse(model, vectors, leaves=words)[0] == tree
