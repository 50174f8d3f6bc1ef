"""Whole-word HMMs with GMM emissions, trained by embedded Baum-Welch.

Every word gets ``states_per_word`` left-to-right states with self-loops, and
silence gets its own ``silence_states``; all acoustic states share one
:class:`~dltoolkit.hmm.GMMEmissions` (``A = V * S + S_sil`` states). Training
follows HTK's HERest: each transcribed utterance becomes a composite HMM
(silence, the words with an optional pause between them, silence), whose
forward-backward posteriors (:func:`dltoolkit.hmm.forward_backward`) are
pooled over the acoustic states for the M-step (GMM re-estimation by
:meth:`GMMEmissions.m_step`, self-loop probabilities from the expected
transitions). Mixtures grow by splitting every component in two.

References:
    Rabiner (1989), sec. VI (connected word models), eqs. (52)-(54).
    Young, S. et al. The HTK Book, ch. 8 (HCompV, HERest, mixture splitting).
    DSE 3151, "Automatic Speech Recognition" (GMM-HMM acoustic models).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from dltoolkit.hmm import chain
from dltoolkit.hmm.chain import Chains
from dltoolkit.hmm.emissions import GMMEmissions
from dltoolkit.hmm.graph import BigramLM, DecodingGraph, compose_graph

PAUSE_PROB = 0.5
BATCH = 64  # utterances per batched chain recursion


@dataclasses.dataclass
class WordHMMs:
    """The acoustic model: states per unit, their self-loops, shared GMMs.

    Attributes:
        words: the vocabulary.
        states_per_word: states of each word model.
        silence_states: states of the silence model (state ids 0..).
        emissions: ``GMMEmissions`` over all ``n_states`` acoustic states.
        log_stay: ``(n_states,)`` self-loop log-probabilities.
    """

    words: tuple[str, ...]
    states_per_word: int
    silence_states: int
    emissions: GMMEmissions
    log_stay: np.ndarray

    @property
    def n_states(self) -> int:
        return self.silence_states + len(self.words) * self.states_per_word

    def units(self, word: str) -> list[int]:
        """Acoustic states of ``word`` (``"<sil>"``: silence)."""
        if word == "<sil>":
            return list(range(self.silence_states))
        i = self.words.index(word)
        first = self.silence_states + i * self.states_per_word
        return list(range(first, first + self.states_per_word))

    def composite(self, text: str):
        """The chain HMM of one transcript: ``(units, log_stay, log_next, log_skip)``.

        Silence, then the words with an optional pause (silence) between
        them (the skip arc jumps over it), then silence, whose last state
        absorbs the final frames.
        """
        sil = self.units("<sil>")
        words = text.split()
        blocks = [sil]
        for w in words:
            blocks += [self.units(w), sil]
        units = np.asarray([u for block in blocks for u in block], np.int64)
        stay = self.log_stay[units].copy()
        leave = np.log1p(-np.exp(np.minimum(stay, -1e-12)))
        nxt = leave.copy()
        skip = np.full(len(units), -np.inf)
        ends = np.cumsum([len(block) for block in blocks]) - 1
        for k in range(1, len(blocks) - 2, 2):  # inner words: pause or not
            last = ends[k]
            nxt[last] = leave[last] + np.log(PAUSE_PROB)
            skip[last] = leave[last] + np.log1p(-PAUSE_PROB)
        stay[-1], nxt[-1] = 0.0, -np.inf
        return units, stay, nxt, skip

    def chains(self, texts) -> tuple[Chains, np.ndarray]:
        """A batch of composite chains and their ``(B, L)`` acoustic states."""
        parts = [self.composite(t) for t in texts]
        ell = max(len(p[0]) for p in parts)
        out = [np.zeros((len(parts), ell), np.int64)]
        out += [np.full((len(parts), ell), -np.inf) for _ in range(3)]
        for b, part in enumerate(parts):
            for arr, values in zip(out, part):
                arr[b, : len(values)] = values
        n = np.array([len(p[0]) for p in parts])
        chains = Chains(out[1], out[2], out[3], self.silence_states + 1, n)
        return chains, out[0]

    def log_likelihoods(self, features) -> np.ndarray:
        """``(T, n_states)`` acoustic log-likelihoods of one utterance."""
        return self.emissions.log_likelihood(features)

    def align(self, features, texts, unit_log_likelihoods=None) -> list[np.ndarray]:
        """Forced alignment: the acoustic state of every frame, per utterance.

        ``unit_log_likelihoods`` replaces the GMM scores (e.g. a network's).
        """
        scores = unit_log_likelihoods or [self.log_likelihoods(x) for x in features]
        out = [None] * len(texts)
        for idx in _length_batches(scores):
            chains, units = self.chains([texts[i] for i in idx])
            em, lengths = _chain_emissions([scores[i] for i in idx], units)
            path, _ = chain.viterbi(chains, em, lengths)
            for b, i in enumerate(idx):
                out[i] = units[b][path[b, : lengths[b]]]
        return out

    def graph(self, lm: BigramLM, *, lm_weight=1.0, insertion_penalty=0.0):
        """The decoding graph of these models with ``lm``, whose words (all of
        these models' or some of them) are the lexicon."""
        unknown = [w for w in lm.words if w not in self.words]
        if unknown:
            raise ValueError(
                f"the LM has words without a model: {unknown}. "
                f"Models: {list(self.words)}"
            )
        return compose_graph(
            {w: self.units(w) for w in lm.words},
            {w: self.log_stay[self.units(w)].tolist() for w in lm.words},
            self.units("<sil>"),
            self.log_stay[self.units("<sil>")].tolist(),
            lm,
            lm_weight=lm_weight,
            insertion_penalty=insertion_penalty,
            pause_prob=PAUSE_PROB,
        )

    # === Persistence ===

    def save(self, path) -> None:
        np.savez(
            path,
            words=np.array(self.words),
            shape=np.array([self.states_per_word, self.silence_states]),
            weights=self.emissions.weights,
            means=self.emissions.means,
            covars=self.emissions.covars,
            log_stay=self.log_stay,
        )

    @classmethod
    def load(cls, path) -> WordHMMs:
        with np.load(Path(path)) as f:
            s, sil = (int(x) for x in f["shape"])
            emissions = GMMEmissions(
                f["weights"], f["means"], f["covars"], min_covar=MIN_COVAR
            )
            return cls(
                tuple(str(w) for w in f["words"]),
                s,
                sil,
                emissions,
                f["log_stay"].copy(),
            )


MIN_COVAR = 1e-2


# === Training ===


def _speech_span(e):
    """First and last frame whose energy is above 30% of the utterance's range."""
    threshold = e.min() + 0.3 * (e.max() - e.min())
    loud = np.flatnonzero(e > threshold)
    if len(loud) == 0:
        return 0, len(e)
    return int(loud[0]), int(loud[-1]) + 1


def _uniform_alignment(model: WordHMMs, energy, text) -> np.ndarray:
    """Silence outside the loud span, the word states spread evenly inside."""
    t = len(energy)
    a, b = _speech_span(energy)
    units = [u for w in text.split() for u in model.units(w)]
    sil = model.units("<sil>")
    out = np.empty(t, np.int64)
    out[:a] = np.array(sil)[
        np.minimum(np.arange(a) * len(sil) // max(a, 1), len(sil) - 1)
    ]
    out[b:] = np.array(sil)[
        np.minimum(np.arange(t - b) * len(sil) // max(t - b, 1), len(sil) - 1)
    ]
    if b > a and units:
        pos = (np.arange(b - a) * len(units)) // (b - a)
        out[a:b] = np.asarray(units)[pos]
    return out


def _split_mixtures(g: GMMEmissions, rng) -> GMMEmissions:
    """Every component becomes two, means moved +-0.2 standard deviations."""
    offset = 0.2 * np.sqrt(g.covars)
    means = np.concatenate([g.means - offset, g.means + offset], axis=1)
    covars = np.concatenate([g.covars, g.covars], axis=1)
    weights = np.concatenate([g.weights, g.weights], axis=1) / 2
    return GMMEmissions(weights, means, covars, min_covar=g.min_covar)


def init_word_hmms(
    features, texts, words, *, states_per_word, silence_states=3, energy=None
):
    """One Gaussian per state from a uniform segmentation (HTK's HInit-like).

    ``energy``: one ``(T,)`` loudness curve per utterance that tells speech
    from silence (default: the first feature, c0 of MFCCs).
    """
    if energy is None:
        energy = [f[:, 0] for f in features]
    n = silence_states + len(words) * states_per_word
    model = WordHMMs(
        tuple(words), states_per_word, silence_states, None, np.full(n, np.log(0.6))
    )
    frames = np.concatenate(features)
    global_var = frames.var(axis=0) + MIN_COVAR
    labels = np.concatenate(
        [_uniform_alignment(model, e, t) for e, t in zip(energy, texts)]
    )
    means = np.tile(frames.mean(axis=0), (n, 1))
    covars = np.tile(global_var, (n, 1))
    for s in range(n):
        x = frames[labels == s]
        if len(x) >= 2:
            means[s] = x.mean(axis=0)
            covars[s] = np.maximum(x.var(axis=0), MIN_COVAR)
    model.emissions = GMMEmissions(
        np.ones((n, 1)), means[:, None], covars[:, None], min_covar=MIN_COVAR
    )
    return model


def _length_batches(sequences) -> list[np.ndarray]:
    """Indices in batches of :data:`BATCH` sequences of similar length."""
    order = np.argsort([len(x) for x in sequences], kind="stable")
    return [order[i : i + BATCH] for i in range(0, len(order), BATCH)]


def _chain_emissions(scores, units):
    """Per-utterance ``(T, A)`` scores -> padded ``(B, T, L)`` chain emissions."""
    lengths = np.array([len(x) for x in scores])
    em = np.zeros((len(scores), lengths.max(), units.shape[1]))
    for b, x in enumerate(scores):
        em[b, : len(x)] = x[:, units[b]]
    return em, lengths


def gmm_m_step(g: GMMEmissions, X, gamma, *, chunk: int = 4096) -> GMMEmissions:
    """:meth:`GMMEmissions.m_step` accumulated over chunks of frames.

    The same update (Rabiner eqs. (52)-(54)) in memory ``O(chunk * N * K)``
    instead of ``O(T * N * K)``.
    """
    n, k, d = g.means.shape
    mass = np.zeros((n, k))
    first = np.zeros((n, k, d))
    second = np.zeros((n, k, d))
    for start in range(0, len(X), chunk):
        x, gam = X[start : start + chunk], gamma[start : start + chunk]
        comp = g._component_log_densities(x)  # (t, N, K)
        m = comp.max(-1, keepdims=True)
        split = np.exp(comp - np.where(np.isfinite(m), m, 0.0))
        split /= np.maximum(split.sum(-1, keepdims=True), np.finfo(float).tiny)
        resp = gam[:, :, None] * split
        mass += resp.sum(axis=0)
        first += np.einsum("tnk,td->nkd", resp, x)
        second += np.einsum("tnk,td->nkd", resp, x**2)
    seen = mass > 0
    safe = np.where(seen, mass, 1.0)[..., None]
    totals = mass.sum(axis=1, keepdims=True)
    weights = np.where(totals > 0, mass / np.where(totals > 0, totals, 1), g.weights)
    means = np.where(seen[..., None], first / safe, g.means)
    moment = second / safe - 2 * means * (first / safe) + means**2
    covars = np.where(seen[..., None], np.maximum(moment, g.min_covar), g.covars)
    return GMMEmissions(weights, means, covars, min_covar=g.min_covar)


def em_iteration(model: WordHMMs, features, texts) -> tuple[WordHMMs, float]:
    """One embedded Baum-Welch iteration over all utterances.

    Utterances that their transcript cannot explain (too few frames) are
    left out of the M-step.
    """
    n = model.n_states
    stay_num = np.zeros(n)
    out_den = np.zeros(n)
    pooled_all, total = [None] * len(texts), 0.0
    for idx in _length_batches(features):
        feats = [features[i] for i in idx]
        chains, units = model.chains([texts[i] for i in idx])
        em, lengths = _chain_emissions([model.log_likelihoods(x) for x in feats], units)
        gamma, counts, loglik = chain.forward_backward(chains, em, lengths)
        total += float(loglik[np.isfinite(loglik)].sum())
        for b, t in enumerate(lengths):
            pooled = np.zeros((t, n))
            np.add.at(pooled.T, units[b], gamma[b, :t].T)
            pooled_all[idx[b]] = pooled
        # Real positions, without the absorbing final state.
        real = np.arange(units.shape[1])[None] < chains.n_states[:, None] - 1
        np.add.at(stay_num, units[real], counts["stay"][real])
        leaving = counts["stay"] + counts["next"] + counts["skip"]
        np.add.at(out_den, units[real], leaving[real])
    stay = np.where(out_den > 0, stay_num / np.maximum(out_den, 1e-300), 0.6)
    stay = np.clip(stay, 0.05, 0.95)
    emissions = gmm_m_step(
        model.emissions, np.concatenate(features), np.concatenate(pooled_all)
    )
    new = dataclasses.replace(model, emissions=emissions, log_stay=np.log(stay))
    return new, total


def train_word_hmms(
    features,
    texts,
    words,
    *,
    states_per_word: int = 8,
    silence_states: int = 3,
    mixtures: int = 4,
    iterations: int = 4,
    seed: int = 0,
    energy=None,
    progress=None,
):
    """Trains whole-word GMM-HMMs by embedded Baum-Welch with mixture splitting.

    Args:
        features: one ``(T, D)`` array per utterance.
        texts: their transcripts (space-separated words).
        words: the vocabulary.
        states_per_word: states of each word model.
        silence_states: states of the silence model.
        mixtures: Gaussians per state at the end (a power of two).
        iterations: Baum-Welch iterations per mixture size.
        seed: for reproducible splitting.
        energy: loudness curves for the initial segmentation (see
            :func:`init_word_hmms`).
        progress: a callable ``(stage: str, log_likelihood: float)`` or None.

    Returns:
        ``(model, history)``: the :class:`WordHMMs` and the total
        log-likelihood before each M-step.
    """
    if mixtures < 1 or mixtures & (mixtures - 1):
        raise ValueError(f"mixtures must be a power of two. Received: {mixtures}")
    if states_per_word < 1 or silence_states < 1:
        raise ValueError(
            "states_per_word and silence_states must be >= 1. Received: "
            f"{states_per_word}, {silence_states}"
        )
    rng = np.random.default_rng(seed)
    features = [np.asarray(f, np.float64) for f in features]
    with threadpool_limits(1, user_api="blas"):  # small matrices: threads only wait
        return _train(
            features,
            texts,
            words,
            states_per_word,
            silence_states,
            mixtures,
            iterations,
            rng,
            energy,
            progress,
        )


def _train(
    features,
    texts,
    words,
    states_per_word,
    silence_states,
    mixtures,
    iterations,
    rng,
    energy,
    progress,
):
    model = init_word_hmms(
        features,
        texts,
        words,
        states_per_word=states_per_word,
        silence_states=silence_states,
        energy=energy,
    )
    history = []
    k = 1
    while True:
        for _ in range(iterations):
            model, loglik = em_iteration(model, features, texts)
            history.append(loglik)
            if progress:
                progress(f"{k} mixture(s)", loglik)
        if k >= mixtures:
            return model, history
        model = dataclasses.replace(
            model, emissions=_split_mixtures(model.emissions, rng)
        )
        k *= 2


__all__ = ["WordHMMs", "train_word_hmms", "DecodingGraph"]
