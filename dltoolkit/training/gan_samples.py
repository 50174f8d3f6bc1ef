"""GAN training helpers: sample grids written while the model trains.

The model and its losses are :mod:`dltoolkit.models.gan`; the grid and PNG
writers are :mod:`dltoolkit.training.plots`.
"""

from __future__ import annotations

from pathlib import Path

import keras

from dltoolkit.training.plots import image_grid, save_png


class SampleGridCallback(keras.callbacks.Callback):
    """Writes a grid of samples from the GAN's ``fixed_noise`` after each epoch.

    The same noise every epoch (and after a resume: it is a model variable)
    shows how the generator's output for fixed ``z`` evolves:
    ``directory/epoch_001.png``, ``epoch_002.png``, ...

    Args:
        directory: where the PNGs go.
        every: write every ``every`` epochs (and always the last).
        columns: images per grid row.
    """

    def __init__(self, directory, *, every: int = 1, columns: int = 8):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1. Received: every={every}")
        self.directory = Path(directory)
        self.every = every
        self.columns = columns

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every and epoch + 1 != last:
            return
        noise = keras.ops.convert_to_numpy(self.model.fixed_noise)
        grid = image_grid(self.model.generate(noise), columns=self.columns)
        save_png(grid, self.directory / f"epoch_{epoch + 1:03d}.png")
