"""HMM test helpers: random models, brute-force enumeration, NumPy views."""

import itertools

import numpy as np


def random_model(rng, n_states, *, concentration=1.0):
    """Random (log_startprob, log_transmat) with Dirichlet rows."""
    start = rng.dirichlet(np.full(n_states, concentration))
    trans = rng.dirichlet(np.full(n_states, concentration), size=n_states)
    return np.log(start), np.log(trans)


def as_numpy(x):
    return tuple(np.asarray(v) for v in x) if isinstance(x, tuple) else np.asarray(x)


def enumerate_paths(log_startprob, log_transmat, log_emissions):
    """All N**T state paths and their joint log-probabilities log p(x, z)."""
    t, n = log_emissions.shape
    paths = np.array(list(itertools.product(range(n), repeat=t)))  # (N**T, T)
    steps = np.arange(t)
    joint = log_startprob[paths[:, 0]] + log_emissions[steps, paths].sum(axis=1)
    joint += log_transmat[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    return paths, joint
