"""Markov chains: estimation, sequence probabilities, n-step and steady state.

A chain over ``N`` states is a row-stochastic transition matrix
``transmat[i, j] = P(z_{t+1} = j | z_t = i)`` and, optionally, an initial
distribution ``startprob``. States may carry names (``states=("run", ...)``);
every method then accepts names or indices.

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286 (sec. II).
    DSE 3151, "Markov Models": the workout example (counts ->
    transition matrix, its second power), the state-sequence probability.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dltoolkit.hmm import _checks


def transition_counts(sequences, n_states: int) -> np.ndarray:
    """Counts transitions ``i -> j`` over integer state sequences.

    Args:
        sequences: one sequence or a list of sequences of state indices.
        n_states: the number of states ``N``.

    Returns:
        ``(N, N)`` int64 counts.
    """
    counts = np.zeros((n_states, n_states), dtype=np.int64)
    for seq in _as_sequences(sequences):
        seq = np.asarray(seq)
        if seq.size and (seq.min() < 0 or seq.max() >= n_states):
            raise ValueError(
                f"state indices must lie in [0, {n_states - 1}]. "
                f"Received: min={seq.min()}, max={seq.max()}"
            )
        np.add.at(counts, (seq[:-1], seq[1:]), 1)
    return counts


def _as_sequences(sequences) -> list:
    if isinstance(sequences, np.ndarray) and sequences.ndim == 1:
        return [sequences]
    if isinstance(sequences, Sequence) and sequences and np.ndim(sequences[0]) == 0:
        return [sequences]
    return list(sequences)


def sample_chain(startprob, transmat, n_steps: int, rng, first=None) -> np.ndarray:
    """Draws ``n_steps`` states; ``first`` fixes the first one.

    Returns:
        ``(n_steps,)`` int64 state indices.
    """
    cum_start = np.cumsum(startprob)
    cum_trans = np.cumsum(transmat, axis=1)
    u = rng.random(n_steps)
    out = np.empty(n_steps, dtype=np.int64)
    n = len(cum_start)
    if n_steps == 0:
        return out
    out[0] = (
        first
        if first is not None
        else min(np.searchsorted(cum_start, u[0], "right"), n - 1)
    )
    for t in range(1, n_steps):
        out[t] = min(np.searchsorted(cum_trans[out[t - 1]], u[t], "right"), n - 1)
    return out


class MarkovChain:
    """A discrete-time Markov chain with observable states.

    Args:
        transmat: ``(N, N)`` row-stochastic transition probabilities.
        startprob: optional ``(N,)`` initial distribution.
        states: optional ``N`` state names.
    """

    def __init__(
        self, transmat, startprob=None, *, states: Sequence[str] | None = None
    ):
        self.transmat = _checks.check_probabilities(transmat, "transmat", ndim=2)
        n = self.transmat.shape[0]
        self.startprob = (
            None
            if startprob is None
            else _checks.check_probabilities(startprob, "startprob", ndim=1, size=n)
        )
        if states is not None and len(states) != n:
            raise ValueError(
                f"states must name all {n} states. Received: {len(states)} names"
            )
        self.states = tuple(states) if states is not None else None

    # === Construction ===

    @classmethod
    def from_counts(cls, counts, *, startprob=None, states=None) -> MarkovChain:
        """Normalizes transition counts row by row (the course's workout table).

        Raises:
            ValueError: when a row has no transitions (its next state is unknown).
        """
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or np.any(counts < 0):
            raise ValueError(
                "counts must be a non-negative (n_states, n_states) matrix. "
                f"Received: shape {counts.shape}"
            )
        totals = counts.sum(axis=1, keepdims=True)
        if np.any(totals == 0):
            empty = np.flatnonzero(totals[:, 0] == 0).tolist()
            raise ValueError(
                f"counts rows {empty} have no transitions; add smoothing or drop them"
            )
        return cls(counts / totals, startprob, states=states)

    @classmethod
    def from_sequences(
        cls,
        sequences,
        *,
        n_states: int | None = None,
        states: Sequence[str] | None = None,
        smoothing: float = 0.0,
    ) -> MarkovChain:
        """Estimates a chain by maximum likelihood (counting) from state sequences.

        Args:
            sequences: a sequence or list of sequences of indices (or of names
                when ``states`` is given).
            n_states: the number of states (default: from ``states`` or the
                largest index + 1).
            states: optional state names.
            smoothing: pseudo-count added to every transition and start count.

        Returns:
            The chain; ``startprob`` is the frequency of first states.
        """
        seqs = _as_sequences(sequences)
        if states is not None:
            lookup = {name: i for i, name in enumerate(states)}
            seqs = [[_lookup(lookup, s) for s in seq] for seq in seqs]
            n_states = len(states)
        seqs = [np.asarray(s, dtype=np.int64) for s in seqs if len(s)]
        if not seqs:
            raise ValueError("sequences must hold at least one non-empty sequence")
        if n_states is None:
            n_states = int(max(s.max() for s in seqs)) + 1
        counts = transition_counts(seqs, n_states) + smoothing
        first = np.bincount([s[0] for s in seqs], minlength=n_states) + smoothing
        return cls.from_counts(counts, startprob=first / first.sum(), states=states)

    # === Queries ===

    @property
    def n_states(self) -> int:
        return self.transmat.shape[0]

    def index(self, state) -> int:
        """The index of a state given by name or index."""
        if self.states is not None and isinstance(state, str):
            return _lookup({n: i for i, n in enumerate(self.states)}, state)
        i = int(state)
        if not 0 <= i < self.n_states:
            raise ValueError(
                f"state must lie in [0, {self.n_states - 1}]. Received: {i}"
            )
        return i

    def sequence_probability(self, sequence, *, given_first_state=False, log=False):
        """``P(z_1..z_T) = pi(z_1) prod_t a(z_{t-1}, z_t)``.

        Args:
            sequence: states by name or index.
            given_first_state: condition on the first state (drop ``pi``).
            log: return the log-probability.

        References:
            DSE 3151, "Summary of Markov Model": probability of a state sequence.
        """
        idx = [self.index(s) for s in sequence]
        if not idx:
            raise ValueError("sequence must hold at least one state")
        with np.errstate(divide="ignore"):
            logp = float(np.sum(np.log(self.transmat[idx[:-1], idx[1:]])))
            if not given_first_state:
                if self.startprob is None:
                    raise ValueError(
                        "this chain has no startprob: pass given_first_state=True "
                        "or build the chain with startprob"
                    )
                logp += float(np.log(self.startprob[idx[0]]))
        return logp if log else float(np.exp(logp))

    def n_step_transmat(self, n: int) -> np.ndarray:
        """``P^n``: entry ``(i, j)`` is ``P(z_{t+n} = j | z_t = i)``.

        References:
            DSE 3151, "Power of the transition matrix":
            ``r_ij(n) = sum_k r_ik(n-1) p_kj``.
        """
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer. Received: {n}")
        return np.linalg.matrix_power(self.transmat, int(n))

    def distribution(self, n: int, initial=None) -> np.ndarray:
        """The state distribution after ``n`` steps: ``initial @ P^n``.

        Args:
            n: number of steps.
            initial: a state (name or index), a ``(N,)`` distribution, or None
                for ``startprob``.
        """
        if initial is None:
            if self.startprob is None:
                raise ValueError("this chain has no startprob: pass initial")
            p0 = self.startprob
        elif isinstance(initial, str) or np.ndim(initial) == 0:
            p0 = np.eye(self.n_states)[self.index(initial)]
        else:
            p0 = _checks.check_probabilities(
                initial, "initial", ndim=1, size=self.n_states
            )
        return p0 @ self.n_step_transmat(n)

    def stationary_distribution(self) -> np.ndarray:
        """The steady state ``pi = pi P``, ``sum(pi) = 1``.

        Raises:
            ValueError: when it is not unique (a reducible chain with several
                closed classes).
        """
        n = self.n_states
        system = self.transmat.T - np.eye(n)
        if np.linalg.matrix_rank(system, tol=1e-10) < n - 1:
            raise ValueError(
                "the stationary distribution is not unique: the chain has several "
                "closed classes of states"
            )
        lhs = np.vstack([system, np.ones((1, n))])
        rhs = np.concatenate([np.zeros(n), [1.0]])
        pi = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        pi = np.clip(pi, 0.0, None)
        return pi / pi.sum()

    def sample(self, n_steps: int, *, seed=None, initial_state=None) -> np.ndarray:
        """Simulates ``n_steps`` states (indices), reproducibly for a seed.

        Args:
            n_steps: length of the simulated sequence.
            seed: seed or ``np.random.Generator``.
            initial_state: fix the first state (name or index); otherwise it is
                drawn from ``startprob``.
        """
        if initial_state is None and self.startprob is None:
            raise ValueError("this chain has no startprob: pass initial_state")
        first = None if initial_state is None else self.index(initial_state)
        start = (
            self.startprob if self.startprob is not None else np.eye(self.n_states)[0]
        )
        return sample_chain(
            start, self.transmat, n_steps, np.random.default_rng(seed), first
        )


def _lookup(lookup: dict, name) -> int:
    if name not in lookup:
        raise ValueError(f"unknown state {name!r}; known states: {sorted(lookup)}")
    return lookup[name]
