"""Per-test setup for tests/optim: the shared fixture without its gc pass.

``keras.backend.clear_session()`` runs ``gc.collect()`` by default, which
costs about 0.4 s a test once TensorFlow is loaded; most optim tests build no
model at all. Seeding and resetting Keras state stay as in tests/conftest.py.
"""

import keras
import pytest


@pytest.fixture(autouse=True)
def _seed_and_clear():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)
