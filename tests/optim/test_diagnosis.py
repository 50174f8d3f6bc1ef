"""diagnose: synthetic learning curves of each kind are classified correctly."""

import json

import keras
import numpy as np
import pytest

from dltoolkit.optim import Diagnosis, diagnose, plot_learning_curves

T = np.arange(30, dtype=float)
NOISE = 0.01 * np.random.default_rng(0).standard_normal(30)


def decay(start, end, tau=3.0, t=T):
    return end + (start - end) * np.exp(-t / tau)


def hist(loss, val=None):
    logs = {"loss": list(loss)}
    if val is not None:
        logs["val_loss"] = list(val)
    return logs


UNDERFIT = {
    "flat_high": hist(2.3 + NOISE, 2.32 + NOISE[::-1]),
    "flat_without_val": hist(np.full(10, 0.69) + NOISE[:10]),
    "still_falling": hist(np.linspace(1.0, 0.5, 15), np.linspace(1.05, 0.56, 15)),
    "still_falling_without_val": hist(np.linspace(2.0, 1.2, 12)),
    "val_still_falling": hist(decay(1.0, 0.3), np.linspace(1.2, 0.45, 30)),
    "slow_decay_cut_short": hist(
        decay(1.0, 0.1, tau=10, t=T[:12]), decay(1.1, 0.15, tau=10, t=T[:12])
    ),
}

OVERFIT = {
    "u_shaped_val": hist(
        decay(1.0, 0.02), decay(1.1, 0.3) + 0.02 * np.maximum(T - 10, 0)
    ),
    "u_shaped_noisy": hist(
        decay(1.0, 0.05) + NOISE,
        decay(1.2, 0.4) + 0.015 * np.maximum(T - 8, 0) + NOISE[::-1],
    ),
    "val_rises_early": hist(
        np.linspace(1.0, 0.1, 20), np.r_[1.0, 0.9, np.linspace(0.92, 1.6, 18)]
    ),
    "large_stable_gap": hist(decay(1.0, 0.02), decay(1.2, 0.6)),
}

GOOD = {
    "converged_small_gap": hist(decay(1.0, 0.2), decay(1.05, 0.25)),
    "converged_noisy": hist(decay(1.0, 0.2) + NOISE, decay(1.1, 0.26) + NOISE[::-1]),
    "val_below_train": hist(decay(1.0, 0.3), decay(0.95, 0.28)),
    # Cross-entropy-like: noise of ~5% around a small final validation loss.
    "noisy_small_minimum": hist(
        decay(2.3, 0.25) + NOISE, decay(2.3, 0.3) + 1.5 * NOISE[::-1]
    ),
    "converged_without_val": hist(decay(2.3, 0.4, tau=2)),
}


@pytest.mark.parametrize("name", UNDERFIT)
def test_underfit(name):
    result = diagnose(UNDERFIT[name])
    assert result.kind == "underfit", result.reasons


@pytest.mark.parametrize("name", OVERFIT)
def test_overfit(name):
    result = diagnose(OVERFIT[name])
    assert result.kind == "overfit", result.reasons


@pytest.mark.parametrize("name", GOOD)
def test_good_fit(name):
    result = diagnose(GOOD[name])
    assert result.kind == "good_fit", result.reasons


def test_gap_best_epoch_and_finals():
    val = decay(1.1, 0.3) + 0.02 * np.maximum(T - 10, 0)
    result = diagnose(OVERFIT["u_shaped_val"])
    assert result.best_epoch == int(np.argmin(val))
    assert 8 <= result.best_epoch <= 14
    assert result.final_loss == pytest.approx(decay(1.0, 0.02)[-1])
    assert result.final_val_loss == pytest.approx(val[-1])
    assert result.generalization_gap == pytest.approx(val[-1] - decay(1.0, 0.02)[-1])
    assert "rose" in result.reasons and f"epoch {result.best_epoch}" in result.reasons


def test_without_validation_best_epoch_is_min_training_loss():
    result = diagnose({"loss": [1.0, 0.5, 0.3, 0.35, 0.33, 0.34]})
    assert result.best_epoch == 2
    assert result.generalization_gap is None and result.final_val_loss is None


def test_accepts_a_keras_history_and_custom_keys():
    history = keras.callbacks.History()
    history.history = {"mae": list(decay(1.0, 0.2)), "val_mae": list(decay(1.0, 0.22))}
    result = diagnose(history, loss="mae", val_loss="val_mae")
    assert isinstance(result, Diagnosis) and result.kind == "good_fit"


def test_to_dict_is_json_serializable():
    data = diagnose(GOOD["converged_small_gap"]).to_dict()
    assert json.loads(json.dumps(data))["kind"] == "good_fit"
    assert set(data) >= {"kind", "best_epoch", "generalization_gap", "reasons"}


@pytest.mark.parametrize(
    "history, message",
    [
        ({}, "history is empty"),
        (keras.callbacks.History(), "history is empty"),
        ({"val_loss": [1.0, 0.5]}, r"no loss under the key 'loss'.*\['val_loss'\]"),
        ({"loss": [1.0]}, "at least 2 epochs"),
        ({"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.6]}, "one value per epoch"),
        ({"loss": [1.0, float("nan"), 0.4]}, "not finite at epoch 1"),
        ([1.0, 0.5], "keras.callbacks.History or a dict"),
    ],
)
def test_bad_history(history, message):
    with pytest.raises(ValueError, match=message):
        diagnose(history)


def test_plot_learning_curves(tmp_path):
    history = dict(OVERFIT["u_shaped_val"])
    history["accuracy"] = list(np.linspace(0.5, 0.99, 30))
    history["val_accuracy"] = list(np.linspace(0.5, 0.8, 30))
    result = diagnose(history)
    path = tmp_path / "curves.png"
    out = plot_learning_curves(
        history, path, diagnosis=result, metrics=("loss", "accuracy")
    )
    assert str(out) == str(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_learning_curves({"loss": [1.0, 0.5]}, tmp_path / "plain.png")
    assert (tmp_path / "plain.png").exists()


def test_plot_missing_metric_lists_keys(tmp_path):
    with pytest.raises(ValueError, match=r"'accuracy'.*\['loss', 'val_loss'\]"):
        plot_learning_curves(
            GOOD["converged_small_gap"], tmp_path / "x.png", metrics=("accuracy",)
        )
    assert not (tmp_path / "x.png").exists()


# Reviewer's report: a 10-class model stuck at chance level (loss ~ ln 10,
# val_accuracy ~ 0.1) after a first-epoch spike used to be called good_fit.
LN10 = float(np.log(10))
CHANCE_SPIKE = {
    "loss": [13.2, 2.31, 2.305, 2.304],
    "val_loss": [2.35, 2.306, 2.304, 2.305],
    "val_accuracy": [0.1, 0.098, 0.097, 0.097],
}
# Longer variant: the spike decays over several epochs, then the loss settles
# a little above chance; only chance_loss can tell this from a good fit.
CHANCE_SLOW_SPIKE = hist(
    [13.2, 8.0, 5.0, 3.0, 2.5, 2.35, 2.31, 2.305, 2.304, 2.304],
    [4.0, 3.1, 2.6, 2.4, 2.33, 2.31, 2.306, 2.305, 2.305, 2.304],
)


@pytest.mark.parametrize("chance_loss", [None, LN10])
def test_spike_then_flat_at_chance_is_underfit(chance_loss):
    result = diagnose(CHANCE_SPIKE, chance_loss=chance_loss)
    assert result.kind == "underfit", result.reasons
    assert result.details["reference_epoch"] == 1
    assert result.details["train_improvement"] < 0.01


def test_spike_then_flat_without_chance_loss_reason_is_flat():
    result = diagnose(CHANCE_SPIKE)
    assert "flat" in result.reasons and "from epoch 1" in result.reasons


def test_spike_then_flat_with_chance_loss_reason_is_chance():
    result = diagnose(CHANCE_SPIKE, chance_loss=LN10)
    assert "chance level" in result.reasons, result.reasons
    assert result.details["chance_loss"] == pytest.approx(LN10)
    assert result.details["below_chance"] == pytest.approx((LN10 - 2.304) / LN10)


def test_long_spike_above_chance_needs_chance_loss():
    assert diagnose(CHANCE_SLOW_SPIKE).kind == "good_fit"
    result = diagnose(CHANCE_SLOW_SPIKE, chance_loss=LN10)
    assert result.kind == "underfit" and "chance level" in result.reasons


def test_chance_rule_overrides_the_other_rules():
    # Overfit by shape, but the training loss never got 10% below chance.
    history = hist(decay(3.0, 2.2), decay(3.1, 3.0) + 0.01 * np.maximum(T - 10, 0))
    assert diagnose(history).kind == "overfit"
    result = diagnose(history, chance_loss=LN10)
    assert result.kind == "underfit" and "chance level" in result.reasons


def test_chance_threshold_is_ten_percent():
    just_below = (1 - 0.11) * LN10
    just_above = (1 - 0.09) * LN10
    good = hist(decay(5.0, just_below, tau=2), decay(5.0, just_below, tau=2))
    stuck = hist(decay(5.0, just_above, tau=2), decay(5.0, just_above, tau=2))
    assert diagnose(good, chance_loss=LN10).kind == "good_fit"
    assert diagnose(stuck, chance_loss=LN10).kind == "underfit"


@pytest.mark.parametrize("name", GOOD)
def test_good_fit_with_chance_loss(name):
    # The good histories start at about 1.0 or 2.3: ln 10 is a plausible chance
    # loss for all of them and they end far below it.
    result = diagnose(GOOD[name], chance_loss=LN10)
    assert result.kind == "good_fit", result.reasons


@pytest.mark.parametrize("name", OVERFIT)
def test_overfit_with_chance_loss(name):
    result = diagnose(OVERFIT[name], chance_loss=float(np.log(2)) * 2)
    assert result.kind == "overfit", result.reasons


def test_spike_then_real_progress_is_not_flat():
    # A first-epoch spike must not hide genuine progress afterwards.
    loss = np.r_[13.2, decay(2.3, 0.3, t=T[:19])]
    val = np.r_[2.5, decay(2.35, 0.33, t=T[:19])]
    result = diagnose(hist(loss, val), chance_loss=LN10)
    assert result.kind == "good_fit", result.reasons


def test_fast_convergence_after_first_epoch_is_not_flat():
    result = diagnose(hist(decay(1.0, 0.2, tau=1), decay(1.05, 0.24, tau=1)))
    assert result.kind == "good_fit", result.reasons


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2.3", True])
def test_bad_chance_loss(bad):
    with pytest.raises(ValueError, match="chance_loss must be a positive"):
        diagnose(GOOD["converged_small_gap"], chance_loss=bad)
