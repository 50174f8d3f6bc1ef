"""Decoding graphs for connected-word recognition: lexicon + bigram LM.

A :class:`DecodingGraph` is one HMM whose states are copies of acoustic states
(``state_units``): each word's left-to-right states, a pause after each word
(a copy of the silence states, so the bigram context survives the pause), a
leading silence and a final non-emitting-like ``end`` state that only the last,
appended frame reaches. Word-to-word arcs carry ``lm_weight * log P(w'|w) +
insertion_penalty``; arcs into ``end`` carry ``lm_weight * log P(</s>|w)``.
Viterbi over the graph (:func:`viterbi_beam`, optionally beam-pruned) yields
the state path; :func:`path_words` reads the words off it.

W* = argmax_W P(X|W) P(W)^lm_weight * penalty^|W| (DSE 3151, "Automatic
Speech Recognition").

References:
    Jurafsky, D. and Martin, J. H. Speech and Language Processing, ch. 9
    (decoding graphs, LM scale and word-insertion penalty).
    Young, S. et al. The HTK Book, sec. 13 (token passing, pruning).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

NEG_INF = -np.inf
BOS, EOS = "<s>", "</s>"


# === Language model ===


@dataclasses.dataclass
class BigramLM:
    """An add-k smoothed bigram model over ``words`` plus ``<s>`` and ``</s>``.

    Attributes:
        words: the vocabulary (without the sentence markers).
        log_probs: ``(V + 1, V + 1)``: row = history (``<s>`` last), column =
            next word (``</s>`` last).
    """

    words: tuple[str, ...]
    log_probs: np.ndarray

    @classmethod
    def estimate(cls, sentences, words, *, add_k: float = 0.1) -> BigramLM:
        """Counts bigrams in ``sentences`` (strings of space-separated words).

        Raises:
            ValueError: a sentence holds a word outside ``words``, or add_k <= 0.
        """
        if add_k <= 0:
            raise ValueError(f"add_k must be > 0. Received: {add_k}")
        words = tuple(words)
        index = {w: i for i, w in enumerate(words)}
        v = len(words)
        counts = np.zeros((v + 1, v + 1))
        for sentence in sentences:
            tokens = sentence.split()
            unknown = [t for t in tokens if t not in index]
            if unknown:
                raise ValueError(
                    f"sentences hold words outside the vocabulary: {unknown[:3]}"
                )
            ids = [v] + [index[t] for t in tokens] + [v]  # <s> row v, </s> col v
            for a, b in zip(ids[:-1], ids[1:]):
                counts[a, b] += 1
        counts += add_k
        return cls(words, np.log(counts / counts.sum(axis=1, keepdims=True)))

    def log_prob(self, sentence: str) -> float:
        """``log P(sentence)`` including ``</s>``."""
        index = {w: i for i, w in enumerate(self.words)}
        v = len(self.words)
        ids = [v] + [index[t] for t in sentence.split()] + [v]
        return float(sum(self.log_probs[a, b] for a, b in zip(ids[:-1], ids[1:])))


# === Graph ===


@dataclasses.dataclass
class DecodingGraph:
    """A composed decoding graph (see the module notes).

    Attributes:
        log_startprob: ``(G,)``.
        log_transmat: ``(G, G)``, not normalized (LM weight and penalty).
        state_units: ``(G,)`` acoustic state of each graph state; ``-1`` for
            the end state.
        word_entry: ``(G,)`` word id whose first state this is, else ``-1``.
        words: the vocabulary.
        end_state: index of the end state.
    """

    log_startprob: np.ndarray
    log_transmat: np.ndarray
    state_units: np.ndarray
    word_entry: np.ndarray
    words: tuple[str, ...]
    end_state: int

    @property
    def n_states(self) -> int:
        return len(self.state_units)

    def emissions(self, unit_log_likelihoods):
        """Acoustic ``(T, A)`` (or ``(B, T, A)``) -> graph emissions with the
        appended end frame: ``(T + 1, G)`` (or ``(B, T + 1, G)``), TF or NumPy."""
        x = tf.convert_to_tensor(unit_log_likelihoods)
        batched = x.shape.rank == 3
        if not batched:
            x = x[None]
        units = tf.constant(np.maximum(self.state_units, 0), tf.int32)
        em = tf.gather(x, units, axis=-1)  # (B, T, G)
        is_end = tf.constant(self.state_units < 0)
        neg = tf.constant(NEG_INF, x.dtype)
        em = tf.where(is_end[None, None], neg, em)
        last = tf.where(is_end, tf.zeros((), x.dtype), neg)  # (G,)
        last = tf.broadcast_to(last[None, None], [tf.shape(em)[0], 1, self.n_states])
        em = tf.concat([em, last], axis=1)
        return em if batched else em[0]


def compose_graph(
    word_units: dict[str, list[int]],
    word_log_stay: dict[str, list[float]],
    silence_units: list[int],
    silence_log_stay: list[float],
    lm: BigramLM,
    *,
    lm_weight: float = 1.0,
    insertion_penalty: float = 0.0,
    pause_prob: float = 0.5,
) -> DecodingGraph:
    """Composes lexicon (word -> acoustic states), silence and a bigram LM.

    Args:
        word_units: each word's acoustic states, left to right.
        word_log_stay: their self-loop log-probabilities.
        silence_units, silence_log_stay: the silence model, likewise.
        lm: the bigram LM over the same words.
        lm_weight: scale of the LM log-probabilities.
        insertion_penalty: log-score added for every word (negative: fewer words).
        pause_prob: probability of a pause after a word.

    Returns:
        The :class:`DecodingGraph`.
    """
    words = lm.words
    if set(word_units) != set(words):
        raise ValueError(
            "word_units must have one entry per LM word. Received: "
            f"{sorted(word_units)} for {list(words)}"
        )
    if not 0.0 < pause_prob < 1.0:
        raise ValueError(f"pause_prob must be in (0, 1). Received: {pause_prob}")
    units, stays, entry = [], [], []
    blocks = {}  # name -> (first, last) graph state

    def add(name, unit_ids, log_stay, word_id=-1):
        first = len(units)
        units.extend(unit_ids)
        stays.extend(log_stay)
        entry.extend([word_id] + [-1] * (len(unit_ids) - 1))
        blocks[name] = (first, len(units) - 1)

    add("sil", silence_units, silence_log_stay)
    for i, w in enumerate(words):
        add(w, word_units[w], word_log_stay[w], i)
        add(("pause", w), silence_units, silence_log_stay)
    end = len(units)
    units.append(-1)
    stays.append(0.0)
    entry.append(-1)
    g = len(units)
    lt = np.full((g, g), NEG_INF)
    stays = np.asarray(stays, dtype=np.float64)
    with np.errstate(divide="ignore"):
        leave = np.log1p(-np.exp(np.minimum(stays, -1e-12)))
    for first, last in blocks.values():  # left-to-right with self-loops
        for s in range(first, last + 1):
            lt[s, s] = stays[s]
            if s < last:
                lt[s, s + 1] = leave[s]
    lt[end, end] = 0.0
    lp = lm.log_probs
    v = len(words)
    word_arc = lambda h, j: lm_weight * lp[h, j] + insertion_penalty  # noqa: E731
    # Leading silence: then any word, or the end (an utterance of silence).
    s0, s1 = blocks["sil"]
    for j, w in enumerate(words):
        lt[s1, blocks[w][0]] = leave[s1] + word_arc(v, j)
    lt[s1, end] = leave[s1] + lm_weight * lp[v, v]
    for i, w in enumerate(words):
        first, last = blocks[w]
        p0, p1 = blocks[("pause", w)]
        lt[last, p0] = leave[last] + np.log(pause_prob)
        for source, scale in ((last, np.log1p(-pause_prob)), (p1, 0.0)):
            for j, w2 in enumerate(words):
                lt[source, blocks[w2][0]] = leave[source] + scale + word_arc(i, j)
            lt[source, end] = leave[source] + scale + lm_weight * lp[i, v]
    ls = np.full(g, NEG_INF)
    ls[s0] = np.log(0.5)
    for j, w in enumerate(words):
        ls[blocks[w][0]] = np.log(0.5) + word_arc(v, j)
    return DecodingGraph(
        ls, lt, np.asarray(units, np.int64), np.asarray(entry, np.int64), words, end
    )


# === Decoding ===


def viterbi_beam(log_startprob, log_transmat, log_emissions, lengths=None, beam=None):
    """Batched Viterbi with optional beam pruning, in TensorFlow.

    After every frame, states scoring more than ``beam`` below the frame's best
    are dropped (token passing with a beam). ``beam=None`` is exact Viterbi.
    The transition matrix need not be normalized (LM weights, penalties).

    Args:
        log_startprob: ``(N,)``.
        log_transmat: ``(N, N)``, rows = from.
        log_emissions: ``(B, T, N)``.
        lengths: ``(B,)`` frames per sequence (default: all ``T``).
        beam: the pruning width in log units, or None.

    Returns:
        ``(path, score)``: int32 ``(B, T)`` (``-1`` at padding) and ``(B,)``.
    """
    em = tf.convert_to_tensor(log_emissions)
    dtype = em.dtype
    ls = tf.cast(log_startprob, dtype)
    lt = tf.cast(log_transmat, dtype)
    b, t = tf.shape(em)[0], tf.shape(em)[1]
    if lengths is None:
        lengths = tf.fill([b], t)
    lengths = tf.cast(lengths, tf.int32)
    neg = tf.constant(NEG_INF, dtype)

    def prune(delta):
        if beam is None:
            return delta
        best = tf.reduce_max(delta, axis=-1, keepdims=True)
        return tf.where(delta < best - tf.cast(beam, dtype), neg, delta)

    em_t = tf.transpose(em, [1, 0, 2])  # (T, B, N)
    active = tf.transpose(tf.range(t)[None] < lengths[:, None])  # (T, B)
    d0 = prune(ls[None] + em_t[0])

    def step(carry, inputs):
        delta, _ = carry
        e, on = inputs
        scores = delta[:, :, None] + lt[None]  # (B, from, to)
        back = tf.argmax(scores, axis=1, output_type=tf.int32)
        new = prune(tf.reduce_max(scores, axis=1) + e)
        keep = tf.broadcast_to(tf.range(tf.shape(delta)[1])[None], tf.shape(back))
        return tf.where(on[:, None], new, delta), tf.where(on[:, None], back, keep)

    zeros = tf.zeros_like(d0, tf.int32)
    deltas, backs = tf.scan(step, (em_t[1:], active[1:]), initializer=(d0, zeros))
    final = tf.concat([d0[None], deltas], axis=0)[-1]
    last = tf.argmax(final, axis=-1, output_type=tf.int32)
    score = tf.reduce_max(final, axis=-1)

    def trace(state, back):
        return tf.gather(back, state, batch_dims=1)

    states = tf.scan(trace, backs, initializer=last, reverse=True)  # (T-1, B)
    path = tf.transpose(tf.concat([states, last[None]], axis=0))  # (B, T)
    mask = tf.range(t)[None] < lengths[:, None]
    return tf.where(mask, path, -tf.ones_like(path)), score


def path_words(path, word_entry) -> tf.Tensor:
    """Word ids entered along one path ``(T,)``: a word's first state reached
    from any other state. Returns int32 ``(n_words,)``."""
    path = tf.cast(path, tf.int32)
    path = tf.boolean_mask(path, path >= 0)
    entry = tf.gather(tf.constant(word_entry, tf.int32), tf.maximum(path, 0))
    previous = tf.concat([[-1], path[:-1]], axis=0)
    new = (entry >= 0) & (path != previous)
    return tf.boolean_mask(entry, new)


def decode_batch(graph: DecodingGraph, unit_log_likelihoods, lengths, beam=None):
    """Best word sequences for a padded batch of acoustic scores.

    Args:
        graph: the decoding graph.
        unit_log_likelihoods: ``(B, T, A)`` acoustic log-likelihoods.
        lengths: ``(B,)`` frames per utterance.
        beam: pruning width or None.

    Returns:
        ``(sentences, scores)``: one space-joined string per utterance, and the
        Viterbi scores.
    """
    em = graph.emissions(unit_log_likelihoods)
    lengths = np.asarray(lengths, np.int32)
    em = _move_end_frame(em, lengths)
    path, score = _compiled_viterbi(
        tf.constant(graph.log_startprob, em.dtype),
        tf.constant(graph.log_transmat, em.dtype),
        em,
        tf.constant(lengths + 1),
        beam,
    )
    sentences = []
    for p in path.numpy():
        ids = path_words(p, graph.word_entry).numpy()
        sentences.append(" ".join(graph.words[i] for i in ids))
    return sentences, score.numpy()


_compiled_viterbi = tf.function(viterbi_beam, reduce_retracing=True)


def _move_end_frame(em, lengths):
    """Puts the appended end frame right after each utterance's last frame."""
    t = tf.shape(em)[1] - 1
    idx = tf.range(t + 1)[None]  # (1, T + 1)
    lengths = tf.constant(lengths)[:, None]
    src = tf.where(idx == lengths, t, tf.minimum(idx, t - 1))
    return tf.gather(em, src, batch_dims=1)
