"""Recursive neural network over binary trees; tree encoding and greedy parsing.

Trees enter the model as tensors. For ``n = max_leaves`` the node buffer has
``2n - 1`` slots: slot ``i < n`` is leaf ``i`` (the ``i``-th word) and merge
``k`` writes its parent to slot ``n + k``. Each example's ``merges`` array,
shaped ``(n - 1, 2)``, lists ``(left slot, right slot)`` in bottom-up order,
padded with rows of ``-1``. For ``(("the", "cat"), "sat")`` and ``n = 4``::

    tokens = [id("the"), id("cat"), id("sat"), 0]
    merges = [[0, 1],    # slot 4 = (the cat)
              [4, 2],    # slot 5 = ((the cat) sat): the root
              [-1, -1]]  # padding
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from dltoolkit.layers import TreeComposition
from dltoolkit.models.options import CLASSIFIER_ACTIVATIONS
from dltoolkit.models.registry import register

PAD = -1  # a padding row of merges


# === Builder ===


@register("recursive", family="recursive")
def build_recursive(
    input_shape,
    num_classes,
    *,
    vocab_size=None,
    dim=50,
    activation="tanh",
    node_outputs=False,
    parse_loss_weight=0.0,
    classifier_activation="softmax",
    name="recursive",
):
    """Builds a recursive neural network that classifies a sentence by its tree.

    Registry mapping: ``input_shape=(max_leaves,)`` is one sentence of token
    ids (leaves, 0 = padding); the model's second input, ``merges``, is its
    tree as ``(max_leaves - 1, 2)`` merges (see :func:`tree_to_merges` and
    :func:`trees_to_inputs`). ``num_classes`` is the width of the softmax.

    Leaves are word embeddings; every merge computes ``p = f(W [c1; c2] + b)``
    and the classifier reads the root (and, with ``node_outputs``, every node,
    with the same weights).

    Args:
        input_shape: ``(max_leaves,)``.
        num_classes: output units.
        vocab_size: number of token ids, padding id 0 included. Required.
        dim: width of the word and phrase vectors.
        activation: the composition function ``f`` (a Keras activation name).
        node_outputs: also classify every node of the buffer.
        parse_loss_weight: weight of the hinge loss that learns the merge
            score ``W_score`` from the given trees (for :func:`greedy_parse`);
            0 (default) leaves ``W_score`` fixed.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` taking ``{"tokens": (batch, n),
        "merges": (batch, n - 1, 2)}``. It outputs ``(batch, num_classes)``,
        or with ``node_outputs`` a dict: ``"root"`` ``(batch, num_classes)``
        and ``"nodes"`` ``(batch, 2n - 1, num_classes)`` (train the node
        outputs with ``SparseCategoricalCrossentropy(ignore_class=-1)`` and
        label unused slots -1). Named layers: ``embedding``, ``composition``
        (a :class:`~dltoolkit.layers.TreeComposition`), ``predictions``.

    References:
        Socher et al., "Parsing Natural Scenes and Natural Language with
        Recursive Neural Networks", ICML 2011; Socher et al., "Recursive Deep
        Models for Semantic Compositionality Over a Sentiment Treebank", EMNLP
        2013 (a classifier on every node). DSE 3151, "Recursive Neural
        Networks".
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 1 or not _is_positive_int(input_shape[0]):
        raise ValueError(
            "recursive expects input_shape=(max_leaves,) with a positive integer. "
            f"Received: input_shape={input_shape}"
        )
    if vocab_size is None or not _is_positive_int(vocab_size):
        raise ValueError(
            "recursive needs vocab_size, a positive integer (token ids in "
            f"[0, vocab_size), 0 = padding). Received: vocab_size={vocab_size!r}"
        )
    if not _is_positive_int(dim):
        raise ValueError(f"dim must be a positive integer. Received: dim={dim!r}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            "num_classes must be a positive integer. "
            f"Received: num_classes={num_classes!r}"
        )
    if classifier_activation not in CLASSIFIER_ACTIVATIONS:
        raise ValueError(
            f"Unknown classifier_activation {classifier_activation!r}. Valid: "
            + ", ".join(str(a) for a in CLASSIFIER_ACTIVATIONS)
            + "."
        )
    (n,) = input_shape

    # === Functional Model ===
    tokens = keras.Input(shape=(n,), dtype="int32", name="tokens")
    merges = keras.Input(shape=(n - 1, 2), dtype="int32", name="merges")
    leaves = layers.Embedding(vocab_size, dim, name="embedding")(tokens)  # (B, n, d)
    nodes, root = TreeComposition(
        activation, parse_loss_weight=parse_loss_weight, name="composition"
    )([leaves, merges])  # (B, 2n-1, d), (B, d)
    head = layers.Dense(
        num_classes,
        activation=classifier_activation,
        dtype="float32",
        name="predictions",
    )
    outputs = head(root)  # (B, C)
    if node_outputs:
        outputs = {"root": outputs, "nodes": head(nodes)}  # nodes: (B, 2n-1, C)
    return keras.Model({"tokens": tokens, "merges": merges}, outputs, name=name)


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# === Tree encoding ===


def tree_to_merges(tree, max_leaves=None):
    """Encodes a binary tree as its leaves and bottom-up merges.

    Args:
        tree: nested pairs (tuples or lists of exactly two items); anything
            else is a leaf. Words, token ids or leaf positions all work:
            ``(("the", "cat"), ("sat", ("on", "mat")))`` or ``((0, 1), 2)``.
            Leaves are numbered left to right.
        max_leaves: pad the merges to ``max_leaves - 1`` rows; None: no padding.

    Returns:
        ``(leaves, merges)``: the leaves left to right, and an int32 array
        ``(max_leaves - 1, 2)`` of ``(left, right)`` buffer slots in
        bottom-up order (slot ``i < max_leaves`` is leaf ``i``, merge ``k``
        fills slot ``max_leaves + k``), padded with ``-1``.

    Raises:
        ValueError: a node without exactly two children, or more leaves than
            ``max_leaves``.
    """
    leaves, refs = [], []  # refs: ("leaf", i) or ("merge", k) per child

    def visit(node, path):
        if not isinstance(node, (tuple, list)):
            leaves.append(node)
            return ("leaf", len(leaves) - 1)
        if len(node) != 2:
            where = "the root" if not path else "path " + "".join(map(str, path))
            raise ValueError(
                "Every tree node must have exactly 2 children; the node at "
                f"{where} has {len(node)}: {node!r}"
            )
        pair = (visit(node[0], (*path, 0)), visit(node[1], (*path, 1)))
        refs.append(pair)
        return ("merge", len(refs) - 1)

    visit(tree, ())
    n = len(leaves) if max_leaves is None else max_leaves
    if not _is_positive_int(n) or len(leaves) > n:
        raise ValueError(
            f"The tree has {len(leaves)} leaves; max_leaves must be at least that. "
            f"Received: max_leaves={max_leaves!r}"
        )
    merges = np.full((n - 1, 2), PAD, dtype="int32")
    for k, pair in enumerate(refs):
        merges[k] = [i if kind == "leaf" else n + i for kind, i in pair]
    return leaves, merges


def trees_to_inputs(trees, max_leaves, vocabulary=None):
    """Encodes a batch of trees as the model's ``tokens`` and ``merges``.

    Args:
        trees: binary trees (see :func:`tree_to_merges`), of any shapes.
        max_leaves: the model's ``input_shape[0]``.
        vocabulary: maps a leaf to its token id (ids from 1; 0 is padding);
            None: the leaves are token ids already.

    Returns:
        ``{"tokens": int32 (batch, max_leaves), "merges": int32 (batch,
        max_leaves - 1, 2)}``.
    """
    tokens = np.zeros((len(trees), max_leaves), dtype="int32")
    merges = np.full((len(trees), max_leaves - 1, 2), PAD, dtype="int32")
    for b, tree in enumerate(trees):
        leaves, merges[b] = tree_to_merges(tree, max_leaves)
        for i, leaf in enumerate(leaves):
            if vocabulary is None:
                if not isinstance(leaf, (int, np.integer)) or leaf < 0:
                    raise ValueError(
                        "Without a vocabulary, leaves must be token ids (integers "
                        f">= 0). Received: leaf {leaf!r} in tree {b}"
                    )
                tokens[b, i] = leaf
            elif leaf in vocabulary:
                tokens[b, i] = vocabulary[leaf]
            else:
                raise ValueError(f"Leaf {leaf!r} of tree {b} is not in the vocabulary.")
    return {"tokens": tokens, "merges": merges}


# === Greedy parsing ===


def composition_weights(model_or_weights) -> dict:
    """``{"W", "b", "W_score", "activation"}`` of a model, layer or dict."""
    source = model_or_weights
    if isinstance(source, keras.Model):
        found = [lay for lay in source.layers if isinstance(lay, TreeComposition)]
        if len(found) != 1:
            raise ValueError(
                "Expected a model with one TreeComposition layer. "
                f"Received: model {source.name!r} with {len(found)}"
            )
        source = found[0]
    if isinstance(source, TreeComposition):
        return {
            "W": keras.ops.convert_to_numpy(source.kernel),
            "b": keras.ops.convert_to_numpy(source.bias),
            "W_score": keras.ops.convert_to_numpy(source.score_kernel),
            "activation": source.activation,
        }
    if isinstance(source, dict) and {"W", "b", "W_score"} <= set(source):
        return {"activation": "tanh", **source}
    raise ValueError(
        "greedy_parse needs a recursive model, a TreeComposition layer or a dict "
        "with 'W' (2d, d), 'b' (d,), 'W_score' (d,) and optionally 'activation'. "
        f"Received: {type(model_or_weights).__name__}"
    )


def greedy_parse(model_or_weights, embeddings, leaves=None):
    """Builds a tree greedily: merge the best-scoring adjacent pair, repeat.

    At each step every adjacent pair ``(c1, c2)`` of the current nodes is
    composed, ``p = f(W [c1; c2] + b)``, and scored, ``s = W_score^T p``;
    the highest score (the leftmost on ties) is merged, until one node
    remains.

    Args:
        model_or_weights: a model from :func:`build_recursive`, its
            ``TreeComposition`` layer, or a dict ``{"W": (2d, d), "b": (d,),
            "W_score": (d,), "activation": "tanh"}``.
        embeddings: leaf vectors ``(num_leaves, d)``, e.g.
            ``model.get_layer("embedding")(token_ids)``.
        leaves: labels of the leaves in the returned tree; default positions.

    Returns:
        ``(tree, root)``: nested pairs of leaf labels (one label for a single
        leaf), which :func:`tree_to_merges` encodes back, and the root vector
        ``(d,)``.

    References:
        Socher et al., ICML 2011, section 3 (greedy approximation of the best
        tree). DSE 3151, "Approximate the best tree by locally
        maximizing each subtree".
    """
    weights = composition_weights(model_or_weights)
    kernel = np.asarray(weights["W"], dtype="float32")
    bias = np.asarray(weights["b"], dtype="float32")
    score = np.asarray(weights["W_score"], dtype="float32").reshape(-1)
    activation = keras.activations.get(weights["activation"])
    vectors = np.asarray(keras.ops.convert_to_numpy(embeddings), dtype="float32")
    dim = kernel.shape[1]
    if vectors.ndim != 2 or len(vectors) < 1 or vectors.shape[1] != dim:
        raise ValueError(
            f"embeddings must be shaped (num_leaves >= 1, {dim}). "
            f"Received: shape {vectors.shape}"
        )
    labels = list(range(len(vectors))) if leaves is None else list(leaves)
    if len(labels) != len(vectors):
        raise ValueError(
            f"leaves has {len(labels)} labels for {len(vectors)} embeddings."
        )
    trees, vectors = labels, list(vectors)
    while len(vectors) > 1:
        pairs = np.concatenate([vectors[:-1], vectors[1:]], axis=-1)  # (m-1, 2d)
        parents = keras.ops.convert_to_numpy(activation(pairs @ kernel + bias))
        best = int(np.argmax(parents @ score))
        trees[best : best + 2] = [(trees[best], trees[best + 1])]
        vectors[best : best + 2] = [parents[best]]
    return trees[0], np.asarray(vectors[0])
