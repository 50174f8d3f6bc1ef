"""Markov chains and hidden Markov models, in NumPy and TensorFlow.

- :class:`MarkovChain`: transition matrices from counts or sequences, sequence
  probabilities, n-step distributions, the stationary distribution, sampling.
- :class:`HMM` with :class:`CategoricalEmissions`, :class:`GaussianEmissions`
  or :class:`GMMEmissions` (or any object with ``log_likelihood(X) -> (T, N)``),
  :func:`baum_welch` training with a :class:`ConvergenceMonitor`.
- :func:`forward`, :func:`backward`, :func:`posteriors`, :func:`viterbi`: the
  NumPy algorithms on per-frame emission log-likelihoods, ``(T, N)`` or batched
  ``(B, T, N)`` with ``lengths``. The TensorFlow versions, batched and usable in
  ``tf.function`` and SavedModels, live in ``dltoolkit.hmm.tf_impl`` (imported
  on demand so that NumPy users do not load TensorFlow).

References:
    Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected
    applications in speech recognition. Proc. IEEE 77(2), 257-286.
    DSE 3151, "Markov Models".
"""

from dltoolkit.hmm.emissions import (
    CategoricalEmissions,
    EmissionModel,
    GaussianEmissions,
    GMMEmissions,
)
from dltoolkit.hmm.markov import MarkovChain, transition_counts
from dltoolkit.hmm.model import HMM, ConvergenceMonitor, baum_welch, e_step
from dltoolkit.hmm.numpy_impl import (
    backward,
    forward,
    forward_backward,
    posteriors,
    viterbi,
)

__all__ = [
    "HMM",
    "CategoricalEmissions",
    "ConvergenceMonitor",
    "EmissionModel",
    "GMMEmissions",
    "GaussianEmissions",
    "MarkovChain",
    "backward",
    "baum_welch",
    "e_step",
    "forward",
    "forward_backward",
    "posteriors",
    "transition_counts",
    "viterbi",
]
