"""Hidden Markov models: scoring, decoding, sampling and Baum-Welch training.

``HMM(startprob, transmat, emissions)`` ties a Markov chain over hidden states
to an emission model (:mod:`dltoolkit.hmm.emissions`). Inference runs on the
NumPy algorithms of :mod:`dltoolkit.hmm.numpy_impl`; for batched or in-graph
decoding pass ``hmm.log_startprob``, ``hmm.log_transmat`` and the emission
log-likelihoods to :mod:`dltoolkit.hmm.tf_impl`.

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286: the three
    problems (sec. III), re-estimation eqs. (40a)-(40c).
    DSE 3151, "Hidden Markov Model" and "Baum-Welch Algorithm".
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dltoolkit.hmm import _checks, numpy_impl
from dltoolkit.hmm.emissions import EmissionModel
from dltoolkit.hmm.markov import sample_chain


class HMM:
    """A hidden Markov model with any emission model.

    Args:
        startprob: ``(N,)`` initial state distribution ``pi``.
        transmat: ``(N, N)`` transition probabilities ``A`` (rows = from).
        emissions: an emission model with ``n_states == N`` and a
            ``log_likelihood(X) -> (T, N)`` method.
    """

    def __init__(self, startprob, transmat, emissions: EmissionModel):
        self.startprob = _checks.check_probabilities(startprob, "startprob", ndim=1)
        n = self.startprob.shape[0]
        self.transmat = _checks.check_probabilities(
            transmat, "transmat", ndim=2, size=n
        )
        if getattr(emissions, "n_states", n) != n:
            raise ValueError(
                f"emissions must have n_states={n} like startprob. "
                f"Received: emissions.n_states={emissions.n_states}"
            )
        self.emissions = emissions

    @property
    def n_states(self) -> int:
        return self.startprob.shape[0]

    @property
    def log_startprob(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.startprob)

    @property
    def log_transmat(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.transmat)

    def log_emissions(self, X) -> np.ndarray:
        """Per-frame emission log-likelihoods ``(T, N)`` of one sequence."""
        return np.asarray(self.emissions.log_likelihood(X), dtype=np.float64)

    def _run(self, algorithm, X):
        return algorithm(self.log_startprob, self.log_transmat, self.log_emissions(X))

    def score(self, X) -> float:
        """``log p(X)`` of one sequence by the forward procedure."""
        return float(self._run(numpy_impl.forward, X)[1])

    def decode(self, X) -> tuple[np.ndarray, float]:
        """The Viterbi path ``(T,)`` of one sequence and its log-probability."""
        return self._run(numpy_impl.viterbi, X)

    def predict_proba(self, X) -> np.ndarray:
        """State posteriors ``gamma`` ``(T, N)`` of one sequence."""
        return self._run(numpy_impl.posteriors, X)

    def sample(self, n_samples: int, *, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """Draws ``(X, states)`` of length ``n_samples``, reproducibly for a seed."""
        rng = np.random.default_rng(seed)
        states = sample_chain(self.startprob, self.transmat, n_samples, rng)
        return self.emissions.sample(states, rng), states

    def replace(self, **changes) -> HMM:
        """A copy with some of ``startprob``, ``transmat``, ``emissions`` replaced."""
        kwargs = dict(
            startprob=self.startprob, transmat=self.transmat, emissions=self.emissions
        )
        return HMM(**{**kwargs, **changes})


@dataclasses.dataclass
class ConvergenceMonitor:
    """Tracks Baum-Welch: the log-likelihood of the data before each M-step.

    Attributes:
        tol: stop once an iteration gains less than this (in log-likelihood).
        n_iter: the most iterations to run.
        history: total log-likelihood before each iteration's M-step.
        converged: True once the gain fell below ``tol`` (not merely because
            ``n_iter`` ran out).
    """

    tol: float = 1e-2
    n_iter: int = 10
    history: list[float] = dataclasses.field(default_factory=list)
    converged: bool = False

    @property
    def iterations(self) -> int:
        return len(self.history)

    def report(self, log_likelihood: float) -> bool:
        """Records one iteration; returns True when training should stop."""
        self.history.append(float(log_likelihood))
        if len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol:
            self.converged = True
        return self.converged or self.iterations >= self.n_iter


def _as_sequences(sequences) -> list[np.ndarray]:
    if isinstance(sequences, np.ndarray):
        return [sequences]
    seqs = [np.asarray(s) for s in sequences]
    if not seqs or any(len(s) == 0 for s in seqs):
        raise ValueError("sequences must be a non-empty list of non-empty sequences")
    return seqs


def e_step(hmm: HMM, sequences):
    """Expected statistics of all sequences under ``hmm``.

    Returns:
        ``(gammas, start, xi_sum, log_likelihood)``: one ``(T_b, N)`` gamma per
        sequence, the summed first-frame posteriors ``(N,)``, the summed
        expected transitions ``(N, N)`` and the total log-likelihood.
    """
    seqs = _as_sequences(sequences)
    frames = [hmm.log_emissions(x) for x in seqs]
    lengths = np.array([len(f) for f in frames])
    padded = np.zeros((len(frames), lengths.max(), hmm.n_states))
    for b, f in enumerate(frames):
        padded[b, : len(f)] = f
    gamma, xi_sum, loglik = numpy_impl.forward_backward(
        hmm.log_startprob, hmm.log_transmat, padded, lengths
    )
    gammas = [gamma[b, :n] for b, n in enumerate(lengths)]
    return gammas, gamma[:, 0].sum(axis=0), xi_sum.sum(axis=0), float(loglik.sum())


def baum_welch(
    hmm: HMM,
    sequences,
    *,
    n_iter: int = 10,
    tol: float = 1e-2,
    update_startprob: bool = True,
    update_transmat: bool = True,
    update_emissions: bool = True,
) -> tuple[HMM, ConvergenceMonitor]:
    """Fits an HMM to sequences by expectation-maximization.

    Each iteration runs forward-backward on every sequence (E-step) and
    re-estimates ``pi_i = gamma_1(i)``, ``a_ij = sum_t xi_t(i, j) /
    sum_t gamma_t(i)`` and the emission model (M-step). States or rows with no
    expected visits keep their parameters.

    Args:
        hmm: the starting model.
        sequences: one sequence or a list of sequences of observations.
        n_iter: the most iterations.
        tol: stop when the log-likelihood gains less than this (``-inf``:
            run all ``n_iter`` iterations).
        update_startprob: re-estimate ``startprob``.
        update_transmat: re-estimate ``transmat``.
        update_emissions: re-estimate the emission model (its ``learn``
            argument selects which of its parameters).

    Returns:
        ``(fitted_hmm, monitor)``; ``monitor.history`` holds the
        log-likelihood before each M-step, as in hmmlearn.

    References:
        Rabiner (1989), eqs. (37)-(40); DSE 3151, "Baum-Welch Algorithm".
    """
    if int(n_iter) != n_iter or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer. Received: {n_iter}")
    if math.isnan(tol):
        raise ValueError(
            f"tol must be a number (-inf: never stop early). Received: {tol}"
        )
    seqs = _as_sequences(sequences)
    frames = np.concatenate(seqs, axis=0)
    monitor = ConvergenceMonitor(tol=tol, n_iter=int(n_iter))
    while True:
        gammas, start, xi_sum, loglik = e_step(hmm, seqs)
        changes = {}
        if update_startprob:
            changes["startprob"] = start / start.sum()
        if update_transmat:
            rows = xi_sum.sum(axis=1, keepdims=True)
            safe = np.where(rows > 0, rows, 1.0)
            changes["transmat"] = np.where(rows > 0, xi_sum / safe, hmm.transmat)
        if update_emissions:
            changes["emissions"] = hmm.emissions.m_step(frames, np.concatenate(gammas))
        hmm = hmm.replace(**changes)
        if monitor.report(loglik):
            return hmm, monitor
