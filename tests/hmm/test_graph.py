"""Decoding graph: bigram LM, composition, beam Viterbi, word read-out."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.hmm import tf_impl
from dltoolkit.hmm.graph import (
    BigramLM,
    compose_graph,
    decode_batch,
    path_words,
    viterbi_beam,
)


def test_bigram_lm_counts_with_add_k():
    lm = BigramLM.estimate(["a b", "a", "b b"], ["a", "b"], add_k=1.0)
    # history <s> (row 2): a twice, b once; </s> never -> (2+1, 1+1, 0+1) / 6
    np.testing.assert_allclose(np.exp(lm.log_probs[2]), [3 / 6, 2 / 6, 1 / 6])
    # history a: b once, </s> once -> (0+1, 1+1, 1+1) / 5
    np.testing.assert_allclose(np.exp(lm.log_probs[0]), [1 / 5, 2 / 5, 2 / 5])
    # history b: a never, b once, </s> twice -> (1, 2, 3) / 6
    np.testing.assert_allclose(np.exp(lm.log_probs[1]), [1 / 6, 2 / 6, 3 / 6])
    assert lm.log_prob("a b") == pytest.approx(np.log(3 / 6 * 2 / 5 * 3 / 6))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        BigramLM.estimate(["a c"], ["a", "b"])
    with pytest.raises(ValueError, match="add_k must be > 0"):
        BigramLM.estimate(["a"], ["a"], add_k=0)


def _random_hmm(rng, n):
    ls = np.log(rng.dirichlet(np.ones(n)))
    lt = np.log(rng.dirichlet(np.ones(n), size=n))
    return ls, lt


def test_viterbi_beam_without_pruning_equals_tf_impl():
    rng = np.random.default_rng(0)
    ls, lt = _random_hmm(rng, 6)
    em = rng.normal(-3, 2, (4, 12, 6))
    lengths = np.array([12, 7, 1, 10])
    ours, score = viterbi_beam(ls, lt, em, lengths)
    ref, ref_score = tf_impl.viterbi(ls, lt, em, lengths)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    np.testing.assert_allclose(score.numpy(), ref_score.numpy(), rtol=1e-10)
    wide, _ = viterbi_beam(ls, lt, em, lengths, beam=1e6)
    np.testing.assert_array_equal(wide.numpy(), ref.numpy())


def test_narrow_beam_keeps_a_valid_path():
    rng = np.random.default_rng(1)
    ls, lt = _random_hmm(rng, 5)
    em = rng.normal(-3, 2, (2, 9, 5))
    exact, exact_score = viterbi_beam(ls, lt, em)
    pruned, score = viterbi_beam(ls, lt, em, beam=0.5)
    assert np.all(score.numpy() <= exact_score.numpy() + 1e-9)
    for b in range(2):  # the pruned path's own score is what it reports
        p = pruned.numpy()[b]
        own = (
            ls[p[0]]
            + em[b, 0, p[0]]
            + sum(lt[p[t - 1], p[t]] + em[b, t, p[t]] for t in range(1, 9))
        )
        assert own == pytest.approx(score.numpy()[b])


def _toy_graph(lm_weight=1.0, insertion_penalty=0.0):
    """Words a, b with 2 acoustic states each (2-3, 4-5); silence is state 0-1."""
    lm = BigramLM.estimate(["a b", "b a", "a", "b"], ["a", "b"])
    stay = [np.log(0.5)] * 2
    return compose_graph(
        {"a": [2, 3], "b": [4, 5]},
        {"a": stay, "b": stay},
        [0, 1],
        stay,
        lm,
        lm_weight=lm_weight,
        insertion_penalty=insertion_penalty,
    )


def _emissions(units, n_units=6):
    """Frames that strongly prefer the given acoustic states."""
    em = np.full((len(units), n_units), -20.0)
    em[np.arange(len(units)), units] = 0.0
    return em


def test_graph_decodes_words_pauses_and_repeats():
    graph = _toy_graph()
    cases = {
        "a b": [0, 1, 2, 2, 3, 4, 5, 5, 0, 1],
        "b a": [0, 1, 4, 5, 0, 0, 1, 2, 3, 0, 1],  # a pause between the words
        "a a": [0, 1, 2, 3, 3, 2, 3, 0, 1],  # the same word twice
        "": [0, 0, 1, 1, 1],  # silence only
    }
    for text, units in cases.items():
        words, _ = decode_batch(graph, _emissions(units)[None], [len(units)])
        assert words == [text]
    # A batch with padding decodes each utterance as on its own.
    seqs = list(cases.values())
    t = max(len(s) for s in seqs)
    batch = np.stack([np.pad(_emissions(s), ((0, t - len(s)), (0, 0))) for s in seqs])
    words, _ = decode_batch(graph, batch, [len(s) for s in seqs])
    assert words == list(cases)


def test_insertion_penalty_removes_weak_words():
    units = [0, 1, 2, 3, 4, 5, 0, 1]
    em = _emissions(units)
    em[4:6] = -3.0  # the "b" frames are ambiguous
    em[4:6, 1] = -2.0  # and slightly favour silence
    words = [
        decode_batch(_toy_graph(insertion_penalty=p), em[None], [8])[0][0]
        for p in (5.0, -5.0)
    ]
    assert words[0] == "a b" and words[1] == "a"


def test_graph_is_checked():
    lm = BigramLM.estimate(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="word_units must have one entry per LM word"):
        compose_graph({"a": [1]}, {"a": [-1.0]}, [0], [-1.0], lm)
    with pytest.raises(ValueError, match="pause_prob must be in"):
        compose_graph(
            {"a": [1], "b": [2]},
            {"a": [-1.0], "b": [-1.0]},
            [0],
            [-1.0],
            lm,
            pause_prob=1.0,
        )


def test_path_words_reads_word_entries():
    entry = np.array([-1, 0, -1, 1, -1])
    path = tf.constant([0, 1, 1, 2, 1, 2, 3, 4, -1, -1])
    np.testing.assert_array_equal(path_words(path, entry).numpy(), [0, 0, 1])
