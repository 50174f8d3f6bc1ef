"""TensorFlow HMM algorithms: agreement with NumPy, graphs, XLA, SavedModel."""

import numpy as np
import pytest
import tensorflow as tf
from hmm_helpers import as_numpy, random_model
from scipy.special import logsumexp

from dltoolkit.hmm import numpy_impl, tf_impl

N_STATES = 5
LENGTHS = [12, 3, 1, 9]


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    log_start, log_trans = random_model(rng, N_STATES)
    log_em = rng.normal(scale=3.0, size=(len(LENGTHS), max(LENGTHS), N_STATES))
    for b, n in enumerate(LENGTHS):
        log_em[b, n:] = rng.normal(size=(max(LENGTHS) - n, N_STATES)) * 100
    return log_start, log_trans, log_em


def _all_outputs(module, log_start, log_trans, log_em, lengths, **kwargs):
    args = (log_start, log_trans, log_em, lengths)
    log_alpha, loglik = as_numpy(module.forward(*args, **kwargs))
    log_beta = as_numpy(module.backward(*args, **kwargs))
    gamma, xi_sum = as_numpy(module.posteriors(*args, return_xi_sum=True, **kwargs))
    path, log_prob = as_numpy(module.viterbi(*args, **kwargs))
    return dict(
        log_alpha=log_alpha,
        loglik=loglik,
        log_beta=log_beta,
        gamma=gamma,
        xi_sum=xi_sum,
        path=path,
        log_prob=log_prob,
    )


def _assert_agree(got, want, rtol, atol):
    for key in want:
        if key == "path":
            np.testing.assert_array_equal(got[key], want[key])
        else:
            np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=atol)


def test_numpy_and_tf_agree_batched_ragged(batch):
    want = _all_outputs(numpy_impl, *batch, LENGTHS)
    _assert_agree(_all_outputs(tf_impl, *batch, LENGTHS), want, 1e-10, 1e-10)
    assert np.all(np.isneginf(want["log_alpha"][1, 3:]))
    assert np.all(want["gamma"][2, 1:] == 0) and np.all(want["path"][2, 1:] == -1)
    np.testing.assert_allclose(want["xi_sum"].sum(axis=(1, 2)), np.subtract(LENGTHS, 1))


def test_numpy_and_tf_agree_in_float32(batch):
    log_start, log_trans, log_em = batch
    want = _all_outputs(numpy_impl, *batch, LENGTHS)
    got = _all_outputs(
        tf_impl, log_start, log_trans, log_em.astype(np.float32), LENGTHS
    )
    assert got["loglik"].dtype == np.float32
    _assert_agree(got, want, 1e-5, 1e-4)


def test_xla_agrees_with_graph(batch):
    want = _all_outputs(tf_impl, *batch, LENGTHS)
    _assert_agree(
        _all_outputs(tf_impl, *batch, LENGTHS, jit_compile=True), want, 1e-10, 1e-10
    )


def test_padding_never_affects_results(batch):
    log_start, log_trans, log_em = batch
    ref = _all_outputs(tf_impl, *batch, LENGTHS)
    for b, n in enumerate(LENGTHS):
        log_em[b, n:] = np.nan
    _assert_agree(
        _all_outputs(tf_impl, log_start, log_trans, log_em, LENGTHS), ref, 0, 0
    )
    for b, n in enumerate(LENGTHS):  # each sequence alone, unbatched
        one = _all_outputs(numpy_impl, log_start, log_trans, log_em[b, :n], None)
        np.testing.assert_allclose(one["loglik"], ref["loglik"][b])
        np.testing.assert_array_equal(one["path"], ref["path"][b, :n])
        np.testing.assert_allclose(one["gamma"], ref["gamma"][b, :n], atol=1e-12)


def test_sparse_left_to_right_model_stays_exact(impl):
    # Predecessors of the later states fall > 1000 nats below the best state,
    # so exp() underflows; the exact log-sum-exp fallback must recover them.
    n = 4
    trans = np.zeros((n, n))
    for i in range(n):
        trans[i, i] = trans[i, min(i + 1, n - 1)] = 0.5
    trans[-1, -1] = 1.0
    with np.errstate(divide="ignore"):
        log_start, log_trans = np.log(np.eye(n)[0]), np.log(trans)
    log_em = np.zeros((12, n))
    log_em[:6] = [0.0, -800.0, -800.0, -800.0]
    log_em[6:] = [-3000.0, -3000.0, -3000.0, 0.0]
    _, loglik = impl.forward(log_start, log_trans, log_em)
    expect = log_start + log_em[0]
    for t in range(1, 12):
        expect = logsumexp(expect[:, None] + log_trans, axis=0) + log_em[t]
    assert np.isfinite(loglik)
    assert loglik == pytest.approx(logsumexp(expect), rel=1e-12)
    gamma = impl.posteriors(log_start, log_trans, log_em)
    np.testing.assert_allclose(gamma[-1], [0, 0, 0, 1], atol=1e-12)
    path, log_prob = impl.viterbi(log_start, log_trans, log_em)
    # Reach state 3 by frame 6 paying 2 x 800 nats (not 2 x 3000 after it).
    np.testing.assert_array_equal(path, [0] * 4 + [1, 2] + [3] * 6)
    assert log_prob == pytest.approx(-1600 + 6 * np.log(0.5))  # then 3 -> 3: p=1


# === Graphs and SavedModel ===


def test_traced_function_with_unknown_shapes_and_graph_checks(batch):
    log_start, log_trans, log_em = batch

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.float64),
            tf.TensorSpec([None, None], tf.float64),
            tf.TensorSpec([None, None, None], tf.float64),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def decode(ls, lt, em, lengths):
        return tf_impl.viterbi(ls, lt, em, lengths)

    path, log_prob = decode(log_start, log_trans, log_em, LENGTHS)
    want = numpy_impl.viterbi(*batch, LENGTHS)
    np.testing.assert_array_equal(path, want[0])
    np.testing.assert_allclose(log_prob, want[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="log_transmat rows"):
        decode(log_start, log_trans + 0.1, log_em, LENGTHS)
    with pytest.raises(tf.errors.InvalidArgumentError, match="lengths must lie"):
        decode(log_start, log_trans, log_em, [13, 3, 1, 9])


class _Decoder(tf.Module):
    def __init__(self, log_startprob, log_transmat):
        super().__init__()
        self.log_startprob = tf.constant(log_startprob, tf.float32)
        self.log_transmat = tf.constant(log_transmat, tf.float32)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, N_STATES], tf.float32, name="log_emissions"),
            tf.TensorSpec([None], tf.int32, name="lengths"),
        ]
    )
    def viterbi(self, log_emissions, lengths):
        path, log_prob = tf_impl.viterbi(
            self.log_startprob, self.log_transmat, log_emissions, lengths
        )
        return {"path": path, "log_probability": log_prob}


def test_saved_model_viterbi_signature(batch, tmp_path):
    log_start, log_trans, log_em = batch
    log_em = log_em.astype(np.float32)
    decoder = _Decoder(log_start, log_trans)
    tf.saved_model.save(decoder, str(tmp_path), signatures={"viterbi": decoder.viterbi})
    del decoder
    loaded = tf.saved_model.load(str(tmp_path))
    out = loaded.signatures["viterbi"](
        log_emissions=tf.constant(log_em), lengths=tf.constant(LENGTHS)
    )
    want_path, want_log_prob = numpy_impl.viterbi(log_start, log_trans, log_em, LENGTHS)
    np.testing.assert_array_equal(out["path"].numpy(), want_path)
    np.testing.assert_allclose(out["log_probability"].numpy(), want_log_prob, rtol=1e-5)
    short = loaded.viterbi(tf.constant(log_em[:1, :3]), tf.constant([3]))
    want_short = numpy_impl.viterbi(log_start, log_trans, log_em[0, :3])[0]
    np.testing.assert_array_equal(short["path"].numpy()[0], want_short)


def test_large_batches_agree():
    # B * N * N above numpy_impl's threshold: its Viterbi streams over states.
    rng = np.random.default_rng(1)
    log_start, log_trans = random_model(rng, 64, concentration=0.3)
    log_em = rng.normal(scale=4.0, size=(32, 20, 64))
    lengths = rng.integers(1, 21, size=32)
    want_path, want_log_prob = numpy_impl.viterbi(log_start, log_trans, log_em, lengths)
    path, log_prob = as_numpy(tf_impl.viterbi(log_start, log_trans, log_em, lengths))
    np.testing.assert_array_equal(path, want_path)
    np.testing.assert_allclose(log_prob, want_log_prob, rtol=1e-12)
    b = int(np.argmax(lengths))
    one = numpy_impl.viterbi(log_start, log_trans, log_em[b, : lengths[b]])
    np.testing.assert_array_equal(one[0], want_path[b, : lengths[b]])
