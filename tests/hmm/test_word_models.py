"""Word GMM-HMMs: composite chains, the chunked M-step, embedded training."""

import numpy as np
import pytest

from dltoolkit.hmm import GMMEmissions
from dltoolkit.hmm.graph import BigramLM, decode_batch
from dltoolkit.hmm.word_models import (
    WordHMMs,
    em_iteration,
    gmm_m_step,
    init_word_hmms,
    train_word_hmms,
)


def test_chunked_m_step_equals_gmm_emissions_m_step():
    rng = np.random.default_rng(0)
    g = GMMEmissions(
        rng.dirichlet(np.ones(3), size=4),
        rng.normal(size=(4, 3, 2)),
        rng.uniform(0.5, 2, (4, 3, 2)),
    )
    x = rng.normal(size=(50, 2))
    gamma = rng.dirichlet(np.ones(4), size=50)
    gamma[:, 3] = 0  # an unvisited state keeps its parameters
    gamma /= gamma.sum(1, keepdims=True)
    ours, ref = gmm_m_step(g, x, gamma, chunk=7), g.m_step(x, gamma)
    for name in ("weights", "means", "covars"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), atol=1e-12)


def _model(states=2, sil=1):
    n = sil + 2 * states
    g = GMMEmissions(np.ones((n, 1)), np.zeros((n, 1, 1)), np.ones((n, 1, 1)))
    return WordHMMs(("a", "b"), states, sil, g, np.full(n, np.log(0.5)))


def test_composite_chain_of_a_transcript():
    m = _model()
    units, stay, nxt, skip = m.composite("a b")
    # sil | a a | sil (optional pause) | b b | sil
    np.testing.assert_array_equal(units, [0, 1, 2, 0, 3, 4, 0])
    assert stay[-1] == 0 and nxt[-1] == -np.inf  # the final silence absorbs
    np.testing.assert_allclose(np.exp(nxt[2]) + np.exp(skip[2]), 0.5)  # after "a"
    assert np.all(np.isinf(np.delete(skip, 2)))
    chains, padded = m.chains(["a b", "b"])
    assert chains.skip == 2 and list(chains.n_states) == [7, 4]
    np.testing.assert_array_equal(padded[1, :4], [0, 3, 4, 0])


def _synthetic(rng, n_utts=30):
    """1-D frames: silence near 0, word a = states at 4, 8; b = states at -4, -8."""
    means = {"<sil>": [0.0], "a": [4.0, 8.0], "b": [-4.0, -8.0]}
    feats, texts = [], []
    for _ in range(n_utts):
        words = list(rng.choice(["a", "b"], size=rng.integers(1, 4)))
        frames = [0.0] * int(rng.integers(3, 6))
        for w in words:
            for mu in means[w]:
                frames += [mu] * int(rng.integers(2, 5))
            frames += [0.0] * int(rng.integers(0, 3))
        frames += [0.0] * int(rng.integers(3, 6))
        feats.append(np.array(frames)[:, None] + rng.normal(0, 0.5, (len(frames), 1)))
        texts.append(" ".join(words))
    return feats, texts


def test_embedded_training_learns_the_word_models():
    rng = np.random.default_rng(1)
    feats, texts = _synthetic(rng)
    energy = [np.abs(f[:, 0]) for f in feats]
    model, history = train_word_hmms(
        feats,
        texts,
        ("a", "b"),
        states_per_word=2,
        silence_states=1,
        mixtures=2,
        iterations=3,
        energy=energy,
    )
    assert np.all(np.diff(history[:3]) > 0)  # EM never lowers the likelihood
    means = np.einsum("nk,nkd->nd", model.emissions.weights, model.emissions.means)
    np.testing.assert_allclose(means[:, 0], [0, 4, 8, -4, -8], atol=0.5)
    aligned = model.align(feats[:1], texts[:1])[0]
    assert aligned[0] == 0 and aligned[-1] == 0
    lm = BigramLM.estimate(texts, ("a", "b"))
    test_feats, test_texts = _synthetic(np.random.default_rng(2), 8)
    scores = [model.log_likelihoods(f) for f in test_feats]
    t = max(len(s) for s in scores)
    batch = np.stack([np.pad(s, ((0, t - len(s)), (0, 0))) for s in scores])
    words, _ = decode_batch(model.graph(lm), batch, [len(s) for s in scores])
    assert words == test_texts


def test_graph_lexicon_is_the_lm_words():
    feats, texts = _synthetic(np.random.default_rng(1))
    model, _ = train_word_hmms(
        feats, texts, ("a", "b"), states_per_word=2, silence_states=1, mixtures=1
    )
    only_a = BigramLM.estimate(["a", "a a"], ("a",))
    graph = model.graph(only_a)
    assert graph.words == ("a",)
    used = set(graph.state_units.tolist()) - {-1}
    assert used == set(model.units("<sil>")) | set(model.units("a"))
    scores = [model.log_likelihoods(f) for f in feats[:4]]
    t = max(len(s) for s in scores)
    batch = np.stack([np.pad(s, ((0, t - len(s)), (0, 0))) for s in scores])
    words, _ = decode_batch(graph, batch, [len(s) for s in scores])
    assert all(set(w.split()) <= {"a"} for w in words)
    assert any("b" in t for t in texts[:4])  # b's frames had to go somewhere
    with pytest.raises(ValueError, match=r"the LM has words without a model: \['c'\]"):
        model.graph(BigramLM.estimate(["a c"], ("a", "c")))


def test_em_iteration_skips_utterances_too_short_for_their_transcript():
    rng = np.random.default_rng(3)
    feats, texts = _synthetic(rng, 6)
    model = init_word_hmms(
        feats, texts, ("a", "b"), states_per_word=2, silence_states=1
    )
    new, loglik = em_iteration(model, [*feats, np.zeros((2, 1))], [*texts, "a b a"])
    assert np.isfinite(loglik)
    assert np.all(np.isfinite(new.emissions.means))


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    feats, texts = _synthetic(rng, 6)
    model, _ = train_word_hmms(
        feats,
        texts,
        ("a", "b"),
        states_per_word=2,
        silence_states=1,
        mixtures=1,
        iterations=1,
    )
    model.save(tmp_path / "m.npz")
    back = WordHMMs.load(tmp_path / "m.npz")
    assert back.words == ("a", "b") and back.n_states == model.n_states
    np.testing.assert_array_equal(
        back.log_likelihoods(feats[0]), model.log_likelihoods(feats[0])
    )


def test_training_arguments_are_checked():
    with pytest.raises(ValueError, match="mixtures must be a power of two"):
        train_word_hmms([np.zeros((5, 1))], ["a"], ("a",), mixtures=3)
    with pytest.raises(ValueError, match="states_per_word and silence_states"):
        train_word_hmms([np.zeros((5, 1))], ["a"], ("a",), states_per_word=0)
