"""A small deterministic training job for the multi-worker tests.

    python tests/training/multiworker_job.py RUN_DIR STRATEGY [EPOCHS]

Trains a seeded two-layer network on fixed data with the fit runner, then
writes ``final.weights.npz`` to the directory this process writes (the chief:
RUN_DIR; another worker: its own, see ``runner.task_run_dir``). Kept free of
random ops (fixed initializer seeds, no shuffling) so one worker and two give
the same result up to float rounding. ``MW_JOB_DIE_AFTER_EPOCH=K`` makes the
process exit at the start of epoch K (0-based), as a crash would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data(n=256):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype("int64")
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(32)
    return train, val


def build():
    import keras

    inputs = keras.Input((6,))
    init = keras.initializers.GlorotUniform
    hidden = keras.layers.Dense(16, activation="tanh", kernel_initializer=init(1))(
        inputs
    )
    outputs = keras.layers.Dense(2, activation="softmax", kernel_initializer=init(2))(
        hidden
    )
    return keras.Model(inputs, outputs)


def run(run_dir, strategy: str, epochs: int = 3):
    """Trains; returns (the directory written, the final weights)."""
    import numpy as np

    from dltoolkit.training.config import TrainConfig
    from dltoolkit.training.runner import fit, task_run_dir

    config = TrainConfig(
        epochs=epochs, optimizer="sgd", learning_rate=0.1, strategy=strategy
    )
    out_dir, _ = task_run_dir(config, run_dir)  # creates the strategy first
    train, val = data()
    extra = []
    if os.environ.get("MW_JOB_DIE_AFTER_EPOCH"):
        # Simulates a crash: the process dies after this many epochs.
        import keras

        die_after = int(os.environ["MW_JOB_DIE_AFTER_EPOCH"])

        class Die(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == die_after:
                    os._exit(3)

        extra.append(Die())
    result = fit(
        build,
        train,
        val,
        config=config,
        run_dir=out_dir,
        steps_per_epoch=8,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        verbose=0,
        extra_callbacks=extra,
    )
    weights = result.model.get_weights()
    np.savez(Path(out_dir) / "final.weights.npz", *weights)
    return Path(out_dir), weights


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    written, _ = run(sys.argv[1], sys.argv[2], epochs)
    print(f"wrote {written}")
