"""A classify run trained once (smoke profile, LeNet-5) for the app tests."""

import pytest

from dltoolkit.apps.classify.app import APP


@pytest.fixture(scope="session")
def classify_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("classify_run")
    config = APP.resolve("smoke", ["epochs=2"])
    metrics = APP.train(config, run_dir, profile="smoke", verbose=0)
    return run_dir, config, metrics
