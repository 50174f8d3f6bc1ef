"""Fixtures of the metric tests: seeded random corpora (see metric_corpora)."""

import pytest
from metric_corpora import make_corpus


@pytest.fixture(scope="session")
def corpus():
    """A 300-segment corpus with two reference streams."""
    return make_corpus(seed=1234)


@pytest.fixture(scope="session")
def single_ref_corpus():
    """A 300-segment corpus with one reference stream."""
    return make_corpus(seed=99, refs=1)
