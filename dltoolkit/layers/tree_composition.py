"""Bottom-up composition over binary trees (recursive neural network)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="dltoolkit")
class TreeComposition(keras.layers.Layer):
    """Computes every node of a binary tree bottom-up: ``p = f(W [c1; c2] + b)``.

    Trees enter as tensors, so the layer trains with ``fit`` in graph mode.
    For ``n`` leaves the node buffer has ``2n - 1`` slots: slot ``i < n`` is
    leaf ``i``; merge ``k`` writes its parent to slot ``n + k``. ``merges``
    lists, per example, ``(left, right)`` buffer slots in bottom-up order;
    a sentence of ``m < n`` leaves has ``m - 1`` merges followed by rows of
    ``-1`` (padding). The root is the last merge (leaf 0 when ``m = 1``).

    The layer also owns the merge score ``s = W_score^T p``, which
    ``dltoolkit.models.recursive.greedy_parse`` uses to build trees. With
    ``parse_loss_weight > 0`` it is learned from the given trees: at each
    gold merge, the gold pair must outscore every other adjacent pair of the
    current frontier that is not a gold merge by ``margin`` (a hinge loss,
    the greedy form of the max-margin parsing objective); the loss is added
    in training only. With 0, ``W_score`` is not trainable.

    Args:
        activation: the composition function ``f``, a Keras activation name.
        kernel_initializer: initializer of ``W``.
        parse_loss_weight: weight of the parsing hinge loss; 0 turns it off.
        margin: hinge margin of the parsing loss.

    Call arguments:
        inputs: ``[leaves, merges]``: leaf vectors ``(batch, n, dim)`` and
            int merges ``(batch, n - 1, 2)``.

    Returns:
        ``(nodes, root)``: every node ``(batch, 2n - 1, dim)`` (unused slots
        are 0) and the root ``(batch, dim)``.

    References:
        Socher et al., "Parsing Natural Scenes and Natural Language with
        Recursive Neural Networks", ICML 2011. DSE 3151, "Recursive
        Neural Networks", s = W^score p, p = f(W[c1; c2] + b).
    """

    def __init__(
        self,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        parse_loss_weight=0.0,
        margin=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        try:
            self._activation_fn = keras.activations.get(activation)
        except ValueError:
            raise ValueError(
                "activation must be a Keras activation name. "
                f"Received: activation={activation!r}"
            ) from None
        if parse_loss_weight < 0 or margin < 0:
            raise ValueError(
                "parse_loss_weight and margin must be >= 0. Received: "
                f"parse_loss_weight={parse_loss_weight}, margin={margin}"
            )
        # A name (or a registered function's name) keeps the config portable.
        self.activation = (
            activation
            if isinstance(activation, str)
            else keras.activations.serialize(self._activation_fn)
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.parse_loss_weight = float(parse_loss_weight)
        self.margin = float(margin)

    def build(self, input_shape):
        leaves_shape, merges_shape = input_shape
        n, dim = leaves_shape[1], leaves_shape[2]
        if n is None or dim is None or tuple(merges_shape[1:]) != (n - 1, 2):
            raise ValueError(
                "TreeComposition expects leaves (batch, n, dim) with known n and "
                "dim and merges (batch, n - 1, 2). Received: "
                f"leaves={tuple(leaves_shape)}, merges={tuple(merges_shape)}"
            )
        self.kernel = self.add_weight(
            name="kernel", shape=(2 * dim, dim), initializer=self.kernel_initializer
        )
        self.bias = self.add_weight(name="bias", shape=(dim,), initializer="zeros")
        self.score_kernel = self.add_weight(
            name="score_kernel",
            shape=(dim,),
            initializer=self.kernel_initializer,
            trainable=self.parse_loss_weight > 0,
        )

    def compose(self, left, right):
        """``f(W [left; right] + b)`` over the last axis."""
        both = ops.concatenate([left, right], axis=-1)
        return self._activation_fn(ops.matmul(both, self.kernel) + self.bias)

    def call(self, inputs, training=None):
        leaves, merges = inputs
        merges = ops.cast(merges, "int32")
        n, dim = leaves.shape[1], leaves.shape[2]
        size = 2 * n - 1
        valid = merges[..., 0] >= 0  # (B, n-1)
        slots = ops.clip(merges, 0, size - 1)
        num_merges = ops.sum(ops.cast(valid, "int32"), axis=1)  # (B,)
        batch = ops.shape(leaves)[0]
        nodes = ops.concatenate(
            [leaves, ops.zeros((batch, n - 1, dim), leaves.dtype)], axis=1
        )  # (B, 2n-1, dim)
        with_loss = bool(training) and self.parse_loss_weight > 0 and n > 1
        # Parsing state: span start of each slot, and which slots are the
        # current frontier (roots of the subtrees built so far).
        start = ops.broadcast_to(ops.arange(size, dtype="int32"), (batch, size))
        alive = ops.arange(size)[None, :] <= num_merges[:, None]  # the m leaves
        zero = ops.zeros((), leaves.dtype)

        def step(k, state):
            nodes, start, alive, loss_sum = state
            left = ops.take(slots[..., 0], k, axis=1)  # (B,)
            right = ops.take(slots[..., 1], k, axis=1)
            ok = ops.take(valid, k, axis=1)  # (B,)
            parent = self.compose(_gather(nodes, left), _gather(nodes, right))
            parent = parent * ops.cast(ok, parent.dtype)[:, None]  # (B, dim)
            if with_loss:
                loss_sum = loss_sum + self._hinge(
                    nodes, start, alive, slots, valid, parent, ok
                )
            slot = ops.arange(size)[None, :] == n + k  # (1, 2n-1)
            nodes = nodes + ops.cast(slot, nodes.dtype)[..., None] * parent[:, None]
            left_start = ops.take_along_axis(start, left[:, None], axis=1)
            start = ops.where(slot, left_start, start)
            children = (ops.arange(size)[None, :] == left[:, None]) | (
                ops.arange(size)[None, :] == right[:, None]
            )
            alive = ops.where(ok[:, None], (alive & ~children) | slot, alive)
            return nodes, start, alive, loss_sum

        nodes, _, _, loss_sum = ops.fori_loop(
            0, n - 1, step, (nodes, start, alive, zero)
        )
        if with_loss:
            count = ops.maximum(ops.sum(ops.cast(valid, nodes.dtype)), 1.0)
            self.add_loss(self.parse_loss_weight * loss_sum / count)
        root = ops.where(num_merges > 0, n - 1 + num_merges, 0)  # (B,)
        return nodes, _gather(nodes, root)

    def _hinge(self, nodes, start, alive, slots, valid, parent, ok):
        """Sum over the batch of the hinge loss of one gold merge."""
        n = (nodes.shape[1] + 1) // 2
        # The frontier in sentence order: alive slots sorted by span start.
        key = ops.where(alive, start, 2 * n)
        order = ops.argsort(key, axis=-1)[:, :n]  # (B, n)
        a, b = order[:, :-1], order[:, 1:]  # adjacent pairs (B, n-1)
        num_alive = ops.sum(ops.cast(alive, "int32"), axis=1)
        exists = ops.arange(n - 1)[None, :] + 1 < num_alive[:, None]
        gold = (a[..., None] == slots[:, None, :, 0]) & (
            b[..., None] == slots[:, None, :, 1]
        )
        gold = ops.any(gold & valid[:, None, :], axis=-1)  # (B, n-1)
        wrong = exists & ~gold
        scores = ops.matmul(
            self.compose(_gather(nodes, a), _gather(nodes, b)), self.score_kernel
        )  # (B, n-1)
        lowest = ops.min(scores, axis=-1, keepdims=True)
        best_wrong = ops.max(ops.where(wrong, scores, lowest), axis=-1)  # (B,)
        hinge = ops.relu(
            self.margin + best_wrong - ops.matmul(parent, self.score_kernel)
        )
        counted = ok & ops.any(wrong, axis=-1)
        return ops.sum(hinge * ops.cast(counted, hinge.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "activation": self.activation,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "parse_loss_weight": self.parse_loss_weight,
                "margin": self.margin,
            }
        )
        return config


def _gather(nodes, index):
    """``nodes[b, index[b, ...]]``: (B, N, dim) by (B,) or (B, K) slots."""
    one_hot = ops.one_hot(index, nodes.shape[1], dtype=nodes.dtype)
    if len(index.shape) == 1:
        return ops.einsum("bn,bnd->bd", one_hot, nodes)
    return ops.einsum("bkn,bnd->bkd", one_hot, nodes)
