"""The "rbm" family: build, one CD step, config and file round trips."""

import keras
import numpy as np
import pytest

from dltoolkit.models import get_builder, list_builders


@pytest.mark.parametrize("name", list_builders("rbm"))
def test_builder_smoke(name, tmp_path):
    model = get_builder(name)((3, 4), hidden_units=5, k=2, seed=0)
    x = (np.random.default_rng(0).random((6, 3, 4)) > 0.5).astype("float32")
    assert model.count_params() == 12 * 5 + 12 + 5
    out = keras.ops.convert_to_numpy(model(x))
    assert out.shape == (6, 3, 4)
    model.compile(keras.optimizers.SGD(0.1))
    logs = model.train_on_batch(x, return_dict=True)
    assert set(logs) == {"loss", "reconstruction_mse"}
    assert np.isfinite(logs["loss"])
    expected = keras.ops.convert_to_numpy(model(x))
    model.save(tmp_path / "rbm.keras")
    reloaded = keras.models.load_model(tmp_path / "rbm.keras")
    assert reloaded.k == 2 and reloaded.hidden_units == 5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), expected)
