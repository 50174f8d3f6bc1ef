"""Captioning on real photographs: the app's ``real`` profile against the Keras
"Image captioning" example recipe, on one split, for the same wall-clock.

    .venv/bin/python bench/captioning.py --data PATH/flickr8k [--budget S]
                                         [--profile real] [--set KEY=VALUE ...]
                                         [--backbone-weights FILE]
                                         [--run-dir DIR] [--threads T] [--force]
                                         [--out FILE.json] [--smoke]

One split for everyone: the app's loader with the profile's settings (a
Flickr8k folder, ``Images/`` + ``captions.txt``, split by image, seeded).
Both contenders train on the training images (validating on the validation
images) and caption the test images, which neither saw; BLEU-1 ... BLEU-4 are
sacreBLEU's (13a tokens, every reference of an image), with a constant
caption's as the floor any useful captioner clears:

- ``dltoolkit real``: ``python -m apps.captioning train --profile real``
  through the app (fit, early stopping on validation BLEU, export), scored
  through its exported SavedModel on the test images' raw bytes; its seconds
  are the run's ``train_seconds``.
- ``Keras example``: "Image captioning" (A. K. Nain, 2021,
  https://keras.io/examples/vision/image_captioning/), written here from
  that page: EfficientNetB0 at 299x299 without its top, frozen, its feature
  map as 100 vectors; one Transformer encoder block (LayerNorm, Dense(512,
  relu), 1-head self-attention with key size 512, residual, LayerNorm); one
  Transformer decoder block (token + position embeddings of 512 scaled by
  sqrt(512), 2-head causal self-attention and cross-attention with dropout
  0.1, feed-forward 512, dropouts 0.3 and 0.5, softmax over the vocabulary);
  10,000 words, sequences of 25 tokens (``<start>`` ... ``<end>``), training
  images with a caption outside 5-25 tokens left out; random flip, rotation
  0.2, contrast 0.3; each batch of 64 images trains on its 5 captions one
  after another (one update each); Adam with a linear warm-up over the
  first 1/15 of the steps to 1e-4, then constant; masked cross-entropy;
  30 epochs with early stopping on validation loss (patience 3, best
  weights restored); greedy decoding up to 24 words. It trains until its
  epochs end or the budget (ours' training seconds unless ``--budget``),
  checked after every batch.

Backbone weights as ours: the ``real`` profile learns its CNN from the
training images only, so the example's EfficientNetB0 starts from random
weights too (frozen, as published); ``--backbone-weights FILE`` gives it an
ImageNet weights file (and ``--set backbone_weights=FILE`` gives ours one).
Threads are pinned equally (``bench/_harness.py``); the JSON goes to
``bench/results/captioning.json`` (or ``--out``). ``--smoke`` writes a tiny
Flickr8k-layout folder itself and runs both at toy sizes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402
from sentiment import Budget  # noqa: E402

PEER = "Keras example"
# The example's published settings.
IMAGE_SIZE, SEQ_LENGTH, VOCAB_SIZE = 299, 25, 10_000
EMBED_DIM, FF_DIM, BATCH_SIZE, EPOCHS = 512, 512, 64, 30
CAPTIONS_PER_IMAGE = 5
# Smoke mode runs the example's steps eagerly: a handful of steps, where
# tracing its train step (EfficientNetB0 and five captions) took 30 s.
SMOKE = dict(
    image_size=64, embed_dim=32, ff_dim=32, batch_size=8, epochs=2, run_eagerly=True
)
COLORS = {"red": (220, 30, 30), "green": (30, 180, 30), "blue": (30, 30, 220)}
SHAPES = ("square", "stripe")


def write_smoke_folder(root: Path, images: int = 40, seed: int = 0) -> Path:
    """A tiny Flickr8k folder: colored squares or stripes on gray, each with
    five captions naming the color and the shape."""
    import random

    import numpy as np
    from PIL import Image

    rng = random.Random(seed)
    (root / "Images").mkdir(parents=True, exist_ok=True)
    rows = ["image,caption"]
    for i in range(images):
        color, shape = rng.choice(list(COLORS)), rng.choice(SHAPES)
        pixels = np.full((48, 64, 3), 128, np.uint8)
        if shape == "square":
            pixels[12:36, 20:44] = COLORS[color]
        else:
            pixels[20:28, :] = COLORS[color]
        name = f"{i:04d}.jpg"
        Image.fromarray(pixels).save(root / "Images" / name)
        for template in (
            "a {c} {s} on a gray background",
            "there is a {c} {s} in the picture",
            "a {c} {s} is shown",
            "the {s} is {c} and the rest is gray",
            "one {c} {s} on gray",
        ):
            rows.append(f"{name},{template.format(c=color, s=shape)}")
    (root / "captions.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def bleu_table(hypotheses: list[str], references: list[list[str]]) -> dict:
    """sacreBLEU's BLEU-1 ... BLEU-4 against every reference."""
    from sacrebleu.metrics import BLEU

    from dltoolkit.training.decoders import reference_streams

    streams = reference_streams(references)
    out = {}
    for n in range(1, 5):
        out[f"bleu{n}"] = round(
            BLEU(max_ngram_order=n).corpus_score(hypotheses, streams).score, 2
        )
    return out


def read_bytes(paths) -> list[bytes]:
    return [Path(p).read_bytes() for p in paths]


# === Contenders ===


def run_ours(data_path, profile, overrides, run_dir: Path, test) -> dict:
    """Trains the app's profile in ``run_dir``; captions ``test`` through the
    exported SavedModel (raw image bytes in)."""
    from dltoolkit.apps.captioning.app import APP

    config = APP.resolve(profile, [f"data={data_path}", *overrides])
    metrics, wall, serve = _harness.train_through_app(APP, config, profile, run_dir)
    tf = sys.modules["tensorflow"]
    blobs = read_bytes(test.images)
    captions = []
    for i in range(0, len(blobs), 64):
        out = serve(images=tf.constant(blobs[i : i + 64], tf.string))
        captions.extend(c.decode() for c in out["caption"].numpy())
    return {
        **bleu_table(captions, test.references),
        "seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "epochs": metrics["epochs"],
        "app_bleu4": metrics["bleu4"],
        "samples": captions[:8],
    }


def keras_example(sizes: dict, weights: str | None):
    """The example's CNN, encoder, decoder and training loop as one model."""
    import keras
    import tensorflow as tf
    from keras import layers, ops

    image_size, embed_dim, ff_dim = (
        sizes["image_size"],
        sizes["embed_dim"],
        sizes["ff_dim"],
    )
    base = keras.applications.EfficientNetB0(
        input_shape=(image_size, image_size, 3), include_top=False, weights=None
    )
    if weights:
        base.load_weights(weights)
    base.trainable = False
    cnn = keras.Model(
        base.input, layers.Reshape((-1, base.output.shape[-1]))(base.output)
    )

    features = keras.Input((None, base.output.shape[-1]))
    x = layers.LayerNormalization()(features)
    x = layers.Dense(embed_dim, activation="relu")(x)
    attended = layers.MultiHeadAttention(num_heads=1, key_dim=embed_dim)(x, x, x)
    encoded = layers.LayerNormalization()(x + attended)
    encoder = keras.Model(features, encoded, name="encoder")

    tokens = keras.Input((SEQ_LENGTH - 1,), dtype="int32")
    memory = keras.Input((None, embed_dim))
    length = SEQ_LENGTH - 1
    word = layers.Embedding(VOCAB_SIZE, embed_dim)(tokens) * (embed_dim**0.5)
    position = layers.Embedding(SEQ_LENGTH, embed_dim)(ops.arange(length))
    x = word + position
    real = ops.cast(ops.not_equal(tokens, 0), "int32")  # (B, T)
    causal = ops.tril(ops.ones((length, length), "int32"))
    self_mask = ops.minimum(real[:, None, :], causal[None])
    cross_mask = real[:, :, None]
    attended = layers.MultiHeadAttention(2, embed_dim, dropout=0.1)(
        x, x, x, attention_mask=self_mask
    )
    out_1 = layers.LayerNormalization()(x + attended)
    crossed = layers.MultiHeadAttention(2, embed_dim, dropout=0.1)(
        out_1, memory, memory, attention_mask=cross_mask
    )
    out_2 = layers.LayerNormalization()(out_1 + crossed)
    ffn = layers.Dense(ff_dim, activation="relu")(out_2)
    ffn = layers.Dense(embed_dim)(layers.Dropout(0.3)(ffn))
    ffn = layers.Dropout(0.5)(layers.LayerNormalization()(ffn + out_2))
    probabilities = layers.Dense(VOCAB_SIZE, activation="softmax")(ffn)
    decoder = keras.Model([tokens, memory], probabilities, name="decoder")

    augment = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.2),
            layers.RandomContrast(0.3),
        ]
    )
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(reduction=None)

    class Captioner(keras.Model):
        def __init__(self):
            super().__init__()
            self.cnn, self.encoder, self.decoder = cnn, encoder, decoder
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.acc_tracker = keras.metrics.Mean(name="acc")

        @property
        def metrics(self):
            return [self.loss_tracker, self.acc_tracker]

        def _loss(self, image_features, sequence, training):
            memory = self.encoder(image_features, training=training)
            y_pred = self.decoder([sequence[:, :-1], memory], training=training)
            y_true = sequence[:, 1:]
            mask = tf.cast(y_true != 0, "float32")
            loss = tf.reduce_sum(cross_entropy(y_true, y_pred) * mask)
            loss /= tf.reduce_sum(mask)
            right = tf.cast(
                tf.argmax(y_pred, -1, output_type="int32") == y_true, "float32"
            )
            return loss, tf.reduce_sum(right * mask) / tf.reduce_sum(mask)

        def train_step(self, data):
            images, sequences = data
            image_features = self.cnn(augment(images, training=True), training=False)
            weights = (
                self.encoder.trainable_variables + self.decoder.trainable_variables
            )
            for i in range(CAPTIONS_PER_IMAGE):  # one update per caption
                with tf.GradientTape() as tape:
                    loss, acc = self._loss(image_features, sequences[:, i], True)
                grads = tape.gradient(loss, weights)
                self.optimizer.apply_gradients(zip(grads, weights))
                self.loss_tracker.update_state(loss)
                self.acc_tracker.update_state(acc)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            images, sequences = data
            image_features = self.cnn(images, training=False)
            for i in range(CAPTIONS_PER_IMAGE):
                loss, acc = self._loss(image_features, sequences[:, i], False)
                self.loss_tracker.update_state(loss)
                self.acc_tracker.update_state(acc)
            return {m.name: m.result() for m in self.metrics}

    return Captioner()


class WarmUp:
    """The example's schedule: linear warm-up to 1e-4, then constant."""

    def __new__(cls, warmup_steps: int):
        import keras

        class _Schedule(keras.optimizers.schedules.LearningRateSchedule):
            def __call__(self, step):
                step = keras.ops.cast(step, "float32")
                warm = 1e-4 * step / max(warmup_steps, 1)
                return keras.ops.where(step < warmup_steps, warm, 1e-4)

            def get_config(self):
                return {"warmup_steps": warmup_steps}

        return _Schedule()


def run_keras(data, budget: float, sizes: dict, weights: str | None) -> dict:
    """Trains the example recipe for its epochs or the budget; greedy-captions
    the test images."""
    import keras
    import numpy as np
    import tensorflow as tf

    def wrap(text):
        return f"<start> {text} <end>"

    import re

    strip = "!\"#$%&'()*+,-./:;=?@[\\]^_`{|}~"  # the example's, without < >
    pattern = f"[{re.escape(strip)}]"

    def standardize(text):
        return tf.strings.regex_replace(tf.strings.lower(text), pattern, "")

    vectorize = keras.layers.TextVectorization(
        max_tokens=VOCAB_SIZE,
        output_mode="int",
        output_sequence_length=SEQ_LENGTH,
        standardize=standardize,
    )
    train_captions = [wrap(c) for refs in data.train.references for c in refs]
    vectorize.adapt(train_captions)

    def usable(split):  # images whose 5 captions all fit in 5-25 tokens
        keep = []
        for i, refs in enumerate(split.references):
            lengths = [len(wrap(c).split()) for c in refs]
            if len(refs) >= CAPTIONS_PER_IMAGE and all(
                5 <= n <= SEQ_LENGTH for n in lengths
            ):
                keep.append(i)
        return keep

    size = sizes["image_size"]

    def read(path):  # floats 0-255: EfficientNet rescales inside
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, expand_animations=False
        )
        return tf.image.resize(image, (size, size))

    def dataset(split, shuffle):
        keep = usable(split)
        paths = [split.images[i] for i in keep]
        captions = [
            [wrap(c) for c in split.references[i][:CAPTIONS_PER_IMAGE]] for i in keep
        ]
        flat = vectorize(tf.constant(sum(captions, [])))  # (n * 5, 25)
        ids = tf.reshape(
            tf.cast(flat, "int32"), (len(keep), CAPTIONS_PER_IMAGE, SEQ_LENGTH)
        )
        ds = tf.data.Dataset.from_tensor_slices((paths, ids))
        if shuffle:
            ds = ds.shuffle(256, seed=0)
        ds = ds.map(lambda p, s: (read(p), s), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(sizes["batch_size"]).prefetch(tf.data.AUTOTUNE), len(keep)

    train, n_train = dataset(data.train, True)
    val, _ = dataset(data.val, False)
    model = keras_example(sizes, weights)
    steps = int(np.ceil(n_train / sizes["batch_size"])) * sizes["epochs"]
    model.compile(
        optimizer=keras.optimizers.Adam(WarmUp(steps // 15)),
        run_eagerly=sizes.get("run_eagerly", False),
    )
    stop = Budget(budget).callback
    early = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    start = time.perf_counter()
    model.fit(
        train,
        epochs=sizes["epochs"],
        validation_data=val,
        callbacks=[early, stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    captions = greedy_captions(model, vectorize, data.test.images, read)
    return {
        **bleu_table(captions, data.test.references),
        "seconds": seconds,
        "epochs_run": len(model.history.epoch),
        "stopped_by_budget": bool(stop.stopped),
        "training_images": n_train,
        "samples": captions[:8],
    }


def greedy_captions(model, vectorize, paths, read) -> list[str]:
    """The example's greedy decoding (argmax word by word until ``<end>``,
    at most 24 words), for a batch of images at a time."""
    import numpy as np
    import tensorflow as tf

    words = vectorize.get_vocabulary()
    start_id, end_id = words.index("<start>"), words.index("<end>")
    out = []
    for i in range(0, len(paths), 64):
        images = tf.stack([read(p) for p in paths[i : i + 64]])
        memory = model.encoder(model.cnn(images, training=False), training=False)
        ids = np.zeros((len(images), SEQ_LENGTH - 1), np.int32)
        ids[:, 0] = start_id
        done = np.zeros(len(images), bool)
        for t in range(SEQ_LENGTH - 2):
            probabilities = model.decoder(
                [tf.constant(ids), memory], training=False
            ).numpy()
            chosen = probabilities[:, t].argmax(-1)
            done |= chosen == end_id
            ids[:, t + 1] = np.where(done, 0, chosen)
            if done.all():
                break
        for row in ids:
            out.append(" ".join(words[j] for j in row[1:] if 1 < j < len(words)))
    return out


def constant_caption_row(data) -> dict:
    """The floor: the app's constant caption (the frequent training caption
    best on the validation images) given for every test image."""
    from dltoolkit.apps.captioning.app import constant_caption

    best = constant_caption(data)
    return {
        **bleu_table([best] * len(data.test), data.test.references),
        "seconds": 0.0,
        "caption": best,
    }


# === Main ===


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _harness.add_app_arguments(parser, "a Flickr8k-layout folder")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="the example's training seconds (default: ours')",
    )
    parser.add_argument(
        "--backbone-weights",
        default=None,
        help="an EfficientNetB0 (no top) weights file for the example",
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.data is None and not args.smoke:
        parser.error("--data PATH (a Flickr8k folder) is required without --smoke")
    args.profile = _harness.profile(args)
    run = _harness.Run("captioning", args)
    tf = run.tensorflow()
    tf.keras.utils.set_random_seed(0)

    from dltoolkit.apps.captioning.app import APP

    sizes = dict(
        image_size=IMAGE_SIZE,
        embed_dim=EMBED_DIM,
        ff_dim=FF_DIM,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench-captioning-"))
    try:
        data_path = args.data
        if args.smoke:
            data_path = data_path or str(write_smoke_folder(scratch / "flickr"))
            sizes.update(SMOKE)
        config = APP.resolve(args.profile, [f"data={data_path}", *args.overrides])
        data = APP.load_data(config)
        print(f"[bench] data: {data.source}; {data.sizes}")
        run.print_threads()
        rows = {}
        run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
        ours = f"dltoolkit {args.profile}"
        rows[ours] = run_ours(
            data_path, args.profile, args.overrides, run_dir, data.test
        )
        budget = args.budget if args.budget is not None else rows[ours]["seconds"]
        print(f"[bench] {PEER}: budget {budget:.0f} s")
        rows[PEER] = run_keras(data, budget, sizes, args.backbone_weights)
        rows["constant caption"] = constant_caption_row(data)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    peer = rows[PEER]["bleu4"]
    ratio = rows[ours]["bleu4"] / peer if peer > 0 else None
    print(
        "\n| contender | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | train seconds |\n"
        "|---|---|---|---|---|---|"
    )
    for name, row in rows.items():
        print(
            f"| {name} | {row['bleu1']:.1f} | {row['bleu2']:.1f} | "
            f"{row['bleu3']:.1f} | {row['bleu4']:.2f} | {row['seconds']:.0f} |"
        )
    shown = f"{ratio:.2f}" if ratio is not None else "n/a (the example scored 0)"
    print(f"\nBLEU-4 ours / {PEER}: {shown}")
    run.write(
        {
            "data": f"Flickr8k-layout folder {Path(data_path).name}",
            "split": {**data.sizes, "seed": config.seed},
            "profile": args.profile,
            "overrides": _harness.shown(args.overrides),
            "budget_seconds": budget,
            "example_settings": sizes,
            "example_backbone_weights": args.backbone_weights or "none (random)",
            "ours": ours,
            "bleu4_ratio_to_example": ratio,
            "rows": rows,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
