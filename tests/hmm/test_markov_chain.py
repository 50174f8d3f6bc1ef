"""Markov chains: the course's workout and weather examples, steady state, sampling."""

import numpy as np
import pytest

from dltoolkit.hmm import MarkovChain, transition_counts

WORKOUT = ("run", "push-ups", "rowing", "pull-ups")
WORKOUT_COUNTS = [[1, 4, 3, 2], [7, 2, 5, 6], [8, 6, 1, 5], [5, 5, 1, 1]]


@pytest.fixture
def workout():
    return MarkovChain.from_counts(WORKOUT_COUNTS, states=WORKOUT)


# === The course's workout example (DSE 3151, "Markov Models") ===


def test_workout_transition_matrix_from_counts(workout):
    # DSE 3151, "Modeling my workout - Transitional Matrix" (2 decimals).
    expected = [
        [0.10, 0.40, 0.30, 0.20],
        [0.35, 0.10, 0.25, 0.30],
        [0.40, 0.30, 0.05, 0.25],
        [0.42, 0.42, 0.08, 0.08],
    ]
    np.testing.assert_array_equal(np.round(workout.transmat, 2), expected)
    np.testing.assert_allclose(workout.transmat[3], [5 / 12, 5 / 12, 1 / 12, 1 / 12])


def test_workout_second_power(workout):
    # DSE 3151, "Second power of the transition matrix": first row of P^2.
    p2 = workout.n_step_transmat(2)
    np.testing.assert_allclose(p2[0], [0.35, 0.25, 0.16, 0.23], atol=0.01)
    # Ques 1: start with a run, push-ups on the second set.
    by_hand = 0.1 * 0.4 + 0.4 * 0.1 + 0.3 * 0.3 + 0.2 * 5 / 12
    assert p2[0, 1] == pytest.approx(by_hand)
    assert workout.distribution(2, "run")[1] == pytest.approx(by_hand)
    np.testing.assert_allclose(p2, workout.transmat @ workout.transmat)
    np.testing.assert_allclose(workout.n_step_transmat(0), np.eye(4))


def test_workout_sequence_probability(workout):
    # Ques 2: run, then push-ups, then pull-ups, given the workout starts with a run.
    p = workout.sequence_probability(
        ["run", "push-ups", "pull-ups"], given_first_state=True
    )
    assert p == pytest.approx(0.4 * 0.3)
    logp = workout.sequence_probability([0, 1, 3], given_first_state=True, log=True)
    assert logp == pytest.approx(np.log(0.12))
    with pytest.raises(ValueError, match="startprob"):
        workout.sequence_probability(["run", "rowing"])


def test_workout_from_sequences_matches_counts():
    rows = []
    for i, row in enumerate(WORKOUT_COUNTS):
        for j, c in enumerate(row):
            rows += [[WORKOUT[i], WORKOUT[j]]] * c
    chain = MarkovChain.from_sequences(rows, states=WORKOUT)
    expected = MarkovChain.from_counts(WORKOUT_COUNTS).transmat
    np.testing.assert_allclose(chain.transmat, expected)
    np.testing.assert_allclose(chain.startprob, np.sum(WORKOUT_COUNTS, 1) / 62)


def test_weather_sequence_probability():
    # DSE 3151, "Summary of Markov Model": s_0 row is the start distribution.
    chain = MarkovChain(
        [[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7]],
        [0.33, 0.33, 0.34],
        states=("hot", "cold", "rain"),
    )
    p = chain.sequence_probability(["hot", "cold", "rain", "rain", "cold"])
    assert p == pytest.approx(0.33 * 0.1 * 0.2 * 0.7 * 0.2)


# === Estimation, steady state, sampling ===


def test_transition_counts_over_sequences():
    counts = transition_counts([[0, 1, 1, 2], [2, 0]], 3)
    np.testing.assert_array_equal(counts, [[0, 1, 0], [0, 1, 1], [1, 0, 0]])
    chain = MarkovChain.from_sequences([[0, 1, 1, 2], [2, 0]], smoothing=1.0)
    np.testing.assert_allclose(chain.transmat[0], [1 / 4, 2 / 4, 1 / 4])


def test_stationary_distribution(workout):
    pi = workout.stationary_distribution()
    np.testing.assert_allclose(pi @ workout.transmat, pi, atol=1e-12)
    assert pi.sum() == pytest.approx(1.0)
    # Steady state: every row of P^n converges to pi.
    np.testing.assert_allclose(workout.n_step_transmat(60), np.tile(pi, (4, 1)))
    periodic = MarkovChain([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(periodic.stationary_distribution(), [0.5, 0.5])


def test_stationary_distribution_not_unique():
    reducible = MarkovChain(np.eye(2))
    with pytest.raises(ValueError, match="not unique"):
        reducible.stationary_distribution()


def test_sampling_is_seeded_and_follows_the_chain(workout):
    a = workout.sample(20_000, seed=3, initial_state="run")
    np.testing.assert_array_equal(a, workout.sample(20_000, seed=3, initial_state=0))
    assert a[0] == 0
    assert not np.array_equal(a, workout.sample(20_000, seed=4, initial_state=0))
    estimated = MarkovChain.from_sequences(a, n_states=4).transmat
    np.testing.assert_allclose(estimated, workout.transmat, atol=0.03)
    freq = np.bincount(a, minlength=4) / len(a)
    np.testing.assert_allclose(freq, workout.stationary_distribution(), atol=0.02)


# === Bad input ===


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(transmat=[[0.5, 0.4], [0.5, 0.5]]),
            r"transmat must sum to 1.*rows \[0\]",
        ),
        (dict(transmat=[[0.5, 0.5]]), r"transmat must have shape .*Received: \(1, 2\)"),
        (dict(transmat=np.eye(2), startprob=[0.6, 0.3]), "startprob must sum to 1"),
        (dict(transmat=np.eye(2), startprob=[1.0]), "startprob must have shape"),
        (dict(transmat=[[1.5, -0.5], [0, 1]]), "non-negative"),
    ],
)
def test_bad_probabilities(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MarkovChain(**kwargs)


def test_normalization_tolerance_is_1e_6():
    MarkovChain([[0.5, 0.5 + 5e-7], [0.5, 0.5]])
    with pytest.raises(ValueError, match="sum to 1"):
        MarkovChain([[0.5, 0.5 + 5e-6], [0.5, 0.5]])


def test_bad_counts_and_states(workout):
    with pytest.raises(ValueError, match=r"rows \[1\] have no transitions"):
        MarkovChain.from_counts([[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="unknown state 'swim'"):
        workout.sequence_probability(["run", "swim"], given_first_state=True)
    with pytest.raises(ValueError, match="state indices must lie"):
        transition_counts([0, 5], 3)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        workout.n_step_transmat(-1)
