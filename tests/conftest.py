"""Shared test setup: quiet TensorFlow, seeded runs, opt-in slow tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--runslow", action="store_true", default=False, help="run slow tests"
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True, scope="module")
def _collect_after_each_file():
    """One full collection per test file: the per-test clear below skips it,
    and the heap a long run keeps slows the files after it (the tuning resume
    test: 54 s late in the suite without this, 16 s with it, 11 s alone)."""
    yield
    keras.backend.clear_session(free_memory=True)


@pytest.fixture(autouse=True)
def _seed_and_clear():
    keras.utils.set_random_seed(0)
    yield
    # free_memory=False skips a gc.collect() that costs ~0.4 s per test.
    keras.backend.clear_session(free_memory=False)
