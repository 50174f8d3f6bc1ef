"""HMM algorithms against hand computation and brute-force path enumeration."""

import numpy as np
import pytest
from hmm_helpers import enumerate_paths, random_model
from scipy.special import logsumexp

from dltoolkit.hmm import HMM, CategoricalEmissions

# === The course's ice-cream example (DSE 3151, "HMM - Forward Procedure";
# hot = 0, cold = 1) ===

ICE_START = [0.6, 0.4]
ICE_TRANS = [[0.7, 0.3], [0.4, 0.6]]
ICE_EMIT = [[0.1, 0.4, 0.5], [0.7, 0.2, 0.1]]  # P(1, 2, 3 ice creams | state)
ICE_OBS = np.array([2, 3, 1, 2]) - 1  # symbol index = ice creams - 1


def ice_cream():
    hmm = HMM(ICE_START, ICE_TRANS, CategoricalEmissions(ICE_EMIT))
    return hmm.log_startprob, hmm.log_transmat, hmm.log_emissions(ICE_OBS)


def test_ice_cream_forward_by_hand(impl):
    # alpha_1 = pi * b(2):  H 0.6*0.4 = 0.24           C 0.4*0.2 = 0.08
    # alpha_2, b(3):        H (0.24*0.7 + 0.08*0.4)*0.5 = 0.1
    #                       C (0.24*0.3 + 0.08*0.6)*0.1 = 0.012
    # alpha_3, b(1):        H (0.1*0.7 + 0.012*0.4)*0.1 = 0.00748
    #                       C (0.1*0.3 + 0.012*0.6)*0.7 = 0.02604
    # alpha_4, b(2):        H (0.00748*0.7 + 0.02604*0.4)*0.4 = 0.0062608
    #                       C (0.00748*0.3 + 0.02604*0.6)*0.2 = 0.0035736
    # P(2, 3, 1, 2) = 0.0062608 + 0.0035736 = 0.0098344
    alpha_by_hand = [
        [0.24, 0.08],
        [0.1, 0.012],
        [0.00748, 0.02604],
        [0.0062608, 0.0035736],
    ]
    log_alpha, loglik = impl.forward(*ice_cream())
    np.testing.assert_allclose(np.exp(log_alpha), alpha_by_hand, rtol=1e-12)
    assert np.exp(loglik) == pytest.approx(0.0098344, rel=1e-12)
    _, joint = enumerate_paths(*ice_cream())
    assert np.exp(logsumexp(joint)) == pytest.approx(0.0098344, rel=1e-12)


def test_ice_cream_viterbi_by_hand(impl):
    # delta_1:       H 0.24                       C 0.08
    # delta_2, b(3): H max(0.168, 0.032)*0.5 = 0.084 (from H)
    #                C max(0.072, 0.048)*0.1 = 0.0072 (from H)
    # delta_3, b(1): H max(0.0588, 0.00288)*0.1 = 0.00588 (from H)
    #                C max(0.0252, 0.00432)*0.7 = 0.01764 (from H)
    # delta_4, b(2): H max(0.004116, 0.007056)*0.4 = 0.0028224 (from C)
    #                C max(0.001764, 0.010584)*0.2 = 0.0021168 (from C)
    # Best: end in H (0.0028224) <- C <- H <- H, i.e. hot, hot, cold, hot.
    path, log_prob = impl.viterbi(*ice_cream())
    np.testing.assert_array_equal(path, [0, 0, 1, 0])
    assert np.exp(log_prob) == pytest.approx(0.0028224, rel=1e-12)
    paths, joint = enumerate_paths(*ice_cream())
    np.testing.assert_array_equal(paths[np.argmax(joint)], path)


# === Brute force over all N**T paths (N = 3, T = 5) ===


@pytest.fixture(params=[0, 1, 2])
def small_case(request):
    rng = np.random.default_rng(request.param)
    log_start, log_trans = random_model(rng, 3, concentration=0.7)
    log_em = rng.normal(scale=2.0, size=(5, 3))  # any per-frame log-likelihoods
    return log_start, log_trans, log_em


def test_forward_and_backward_by_enumeration(impl, small_case):
    log_start, log_trans, log_em = small_case
    log_alpha, loglik = impl.forward(*small_case)
    for t in range(5):  # alpha_t(i): all prefixes of length t + 1 ending in i
        paths, joint = enumerate_paths(log_start, log_trans, log_em[: t + 1])
        expect = [logsumexp(joint[paths[:, t] == i]) for i in range(3)]
        np.testing.assert_allclose(log_alpha[t], expect, atol=1e-10)
    paths, joint = enumerate_paths(*small_case)
    assert loglik == pytest.approx(logsumexp(joint), abs=1e-10)
    # beta_t(i) = p(x_{t+1..T} | z_t = i): all suffixes starting in i.
    log_beta = impl.backward(*small_case)
    for t in range(5):
        uniform = np.full(3, -np.log(3))
        sub_paths, sub_joint = enumerate_paths(uniform, log_trans, log_em[t:])
        sub_joint -= uniform[0] + log_em[t, sub_paths[:, 0]]
        expect = [logsumexp(sub_joint[sub_paths[:, 0] == i]) for i in range(3)]
        np.testing.assert_allclose(log_beta[t], expect, atol=1e-10)


def test_posteriors_by_enumeration(impl, small_case):
    paths, joint = enumerate_paths(*small_case)
    weights = np.exp(joint - logsumexp(joint))
    gamma_bf = np.stack([np.bincount(paths[:, t], weights, 3) for t in range(5)])
    xi_bf = np.zeros((3, 3))
    for t in range(4):
        np.add.at(xi_bf, (paths[:, t], paths[:, t + 1]), weights)
    gamma, xi_sum = impl.posteriors(*small_case, return_xi_sum=True)
    np.testing.assert_allclose(gamma, gamma_bf, atol=1e-12)
    np.testing.assert_allclose(xi_sum, xi_bf, atol=1e-12)
    np.testing.assert_allclose(impl.posteriors(*small_case), gamma_bf, atol=1e-12)


def test_viterbi_by_enumeration(impl, small_case):
    paths, joint = enumerate_paths(*small_case)
    path, log_prob = impl.viterbi(*small_case)
    np.testing.assert_array_equal(path, paths[np.argmax(joint)])
    assert log_prob == pytest.approx(joint.max(), abs=1e-10)


def test_impossible_transitions_and_emissions(impl):
    # Zeros in the model (-inf logs) are allowed; paths through them drop out.
    with np.errstate(divide="ignore"):
        log_start = np.log([1.0, 0.0, 0.0])
        log_trans = np.log([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    log_em = np.random.default_rng(5).normal(size=(5, 3))
    log_em[2, 0] = -np.inf
    paths, joint = enumerate_paths(log_start, log_trans, log_em)
    _, loglik = impl.forward(log_start, log_trans, log_em)
    assert loglik == pytest.approx(logsumexp(joint), abs=1e-10)
    path, log_prob = impl.viterbi(log_start, log_trans, log_em)
    np.testing.assert_array_equal(path, paths[np.argmax(joint)])
    gamma = impl.posteriors(log_start, log_trans, log_em)
    assert np.all(np.isfinite(gamma)) and gamma[2, 0] == 0.0
