"""t-SNE's gradient descent in TensorFlow: 50 steps at a time in one XLA program.

The same objective and optimizer as ``neighbor_embedding`` (the NumPy path);
XLA fuses the (n, n) element-wise work into a few passes, and the steps run
on a GPU when TensorFlow sees one. Used by ``tsne(..., backend="tensorflow")``.
"""

from __future__ import annotations

import numpy as np

from dltoolkit._quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import tensorflow as tf  # noqa: E402

_CHECK_EVERY = 50


def gradient(P, Y):
    """``(grad, kernel, total)``: dC/dY of t-SNE and the Student-t kernel."""
    sq = tf.reduce_sum(Y * Y, axis=1)
    D = sq[:, None] + sq[None, :] - 2.0 * tf.matmul(Y, Y, transpose_b=True)
    kernel = tf.linalg.set_diag(1.0 / (1.0 + tf.maximum(D, 0.0)), tf.zeros_like(sq))
    total = tf.reduce_sum(kernel)
    pq = (P - kernel / total) * kernel  # (n, n)
    grad = 4.0 * (tf.reduce_sum(pq, axis=1, keepdims=True) * Y - tf.matmul(pq, Y))
    return grad, kernel, total


def kl_divergence(P, Y):
    """KL(P || Q) of the embedding ``Y``."""
    _, kernel, total = gradient(P, Y)
    eps = np.finfo(P.dtype.as_numpy_dtype).eps
    q = tf.maximum(kernel / total, eps)
    return tf.reduce_sum(tf.math.xlogy(P, P) - P * tf.math.log(q))


@tf.function(jit_compile=True, reduce_retracing=True)
def _steps(P, Y, update, gains, n_steps, momentum, learning_rate):
    def body(i, Y, update, gains, grad_norm):
        grad, _, _ = gradient(P, Y)
        inc = update * grad < 0.0  # sign changed: speed up this coordinate
        gains = tf.maximum(tf.where(inc, gains + 0.2, gains * 0.8), 0.01)
        grad = grad * gains
        update = momentum * update - learning_rate * grad
        return i + 1, Y + update, update, gains, tf.norm(grad)

    zero = tf.zeros((), Y.dtype)
    _, Y, update, gains, grad_norm = tf.while_loop(
        lambda i, *_: i < n_steps, body, (tf.constant(0), Y, update, gains, zero)
    )
    return Y, update, gains, grad_norm, kl_divergence(P, Y)


def descend(
    P, Y, *, learning_rate, n_iter, start, momentum, state, bar, dtype=tf.float32
):
    """``neighbor_embedding._descend`` in TensorFlow: same contract, Y updated."""
    P_t = tf.constant(P, dtype)
    Y_t = tf.constant(Y, dtype)
    update = tf.constant(state["update"], dtype)
    gains = tf.constant(state["gains"], dtype)
    momentum_t = tf.constant(momentum, dtype)
    rate_t = tf.constant(learning_rate, dtype)
    best, best_iter = np.inf, start
    it = start - 1
    while it + 1 < n_iter:
        n_steps = min(_CHECK_EVERY - (it + 1) % _CHECK_EVERY, n_iter - it - 1)
        Y_t, update, gains, grad_norm, kl = _steps(
            P_t, Y_t, update, gains, tf.constant(n_steps), momentum_t, rate_t
        )
        it += n_steps
        kl = float(kl)
        state["history"].append((it + 1, kl))
        if bar is not None:
            bar.update(n_steps)
            bar.set_postfix(kl=f"{kl:.4f}")
        if float(grad_norm) <= 1e-7:
            break
        if kl < best:
            best, best_iter = kl, it
        elif it - best_iter > 300:
            break
    Y[...] = Y_t.numpy()
    state["update"][...] = update.numpy()
    state["gains"][...] = gains.numpy()
    return it
