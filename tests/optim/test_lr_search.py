"""find_learning_rate: coarse then fine log-scale search on linear regression."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.optim import LRSearchResult, find_learning_rate, get_optimizer
from dltoolkit.optim.lr_search import _fine_rates

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.5
    return x, y


def build_linear(learning_rate):
    # Zero initial weights: every rate starts from the same point.
    dense = keras.layers.Dense(1, kernel_initializer="zeros")
    model = keras.Sequential([keras.Input((3,)), dense])
    model.compile(optimizer=get_optimizer("sgd", learning_rate), loss="mse")
    return model


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    keras.utils.set_random_seed(0)
    plot_path = tmp_path_factory.mktemp("lr") / "lr_search.png"
    data = tf.data.Dataset.from_tensor_slices(regression_data()).batch(16)
    result = find_learning_rate(
        build_linear,
        data,
        min_lr=1e-3,
        max_lr=10.0,
        num_coarse=5,
        num_fine=3,
        epochs=2,
        plot_path=plot_path,
    )
    return result, plot_path


def test_coarse_rates_are_log_spaced(search):
    result, _ = search
    rates = [lr for lr, _ in result.coarse]
    np.testing.assert_allclose(rates, [1e-3, 1e-2, 0.1, 1.0, 10.0])
    assert result.score_name == "loss"


def test_too_small_and_too_large_rates_are_worse(search):
    result, _ = search
    losses = dict(result.coarse)
    assert 0.03 <= result.best_lr <= 3.0
    assert losses[1e-3] > 5 * result.best_loss
    assert not math.isfinite(losses[10.0]) or losses[10.0] > 5 * result.best_loss
    assert result.best_loss == min(loss for _, loss in result.coarse + result.fine)


def test_fine_rates_lie_between_the_coarse_neighbours(search):
    result, _ = search
    rates = [lr for lr, _ in result.coarse]
    i = int(np.argmin([loss for _, loss in result.coarse]))
    low = rates[max(i - 1, 0)]
    high = rates[min(i + 1, len(rates) - 1)]
    assert len(result.fine) == 3
    for lr, _ in result.fine:
        assert low < lr < high and lr != pytest.approx(rates[i])


def test_plot_is_written(search):
    _, plot_path = search
    assert plot_path.read_bytes()[:8] == PNG_MAGIC


def test_fine_rates_split_around_the_best():
    coarse = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    np.testing.assert_allclose(
        _fine_rates(coarse, 3, 4),
        [10**-1.667, 10**-1.333, 10**-0.667, 10**-0.333],
        rtol=1e-3,
    )
    assert all(1e-4 < lr < 1e-3 for lr in _fine_rates(coarse, 0, 3))
    assert all(0.1 < lr < 1.0 for lr in _fine_rates(coarse, 4, 3))
    assert _fine_rates(coarse, 2, 0) == []


def test_validation_loss_is_scored_and_progress_shown(capsys):
    x, y = regression_data(32)
    x_val, y_val = regression_data(16, seed=1)
    result = find_learning_rate(
        build_linear,
        (x, y),
        val_data=(x_val, y_val),
        min_lr=0.01,
        max_lr=0.1,
        num_coarse=2,
        num_fine=1,
        verbose=1,
    )
    assert result.score_name == "val_loss"
    assert len(result.coarse) == 2 and len(result.fine) == 1
    assert 0.01 < result.fine[0][0] < 0.1
    assert "lr search" in capsys.readouterr().err


def test_plot_marks_diverged_rates(tmp_path):
    result = LRSearchResult(
        best_lr=0.1,
        coarse=[(0.01, 2.0), (0.1, 0.5), (1.0, math.inf)],
        fine=[(0.05, 0.7), (0.3, math.nan)],
    )
    path = result.plot(tmp_path / "sub" / "plot.png")
    assert (tmp_path / "sub" / "plot.png").read_bytes()[:8] == PNG_MAGIC
    assert str(path).endswith("plot.png")


def uncompiled(learning_rate):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


def ignores_the_rate(learning_rate):
    return build_linear(0.5)


@pytest.mark.parametrize(
    "build, data, kwargs, message",
    [
        (build_linear, [1, 2, 3], {}, "train_data must be a tf.data.Dataset"),
        (build_linear, None, {"max_lr": 1e-5}, "max_lr must exceed min_lr"),
        (build_linear, None, {"num_coarse": 1}, "num_coarse=1"),
        (build_linear, None, {"min_lr": 0}, "min_lr=0"),
        (uncompiled, None, {}, "must return a compiled keras.Model"),
        (ignores_the_rate, None, {}, "compile with the given learning rate"),
    ],
)
def test_bad_arguments(build, data, kwargs, message):
    data = regression_data(8) if data is None else data
    with pytest.raises(ValueError, match=message):
        find_learning_rate(build, data, num_fine=0, **kwargs)
