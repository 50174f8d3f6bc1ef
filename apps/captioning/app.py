"""Image captioning: registry CNN encoder, attention LSTM decoder, beam search.

python -m apps.captioning train --profile quick          # embedded shape scenes
python -m apps.captioning train --set decoder=transformer
python -m apps.captioning train --set data=PATH/flickr8k # Images/ + captions.txt
python -m apps.captioning train --set encoder_weights=runs/classify/DIR
python -m apps.captioning train --set backbone=keras:EfficientNetB0 \
    --set backbone_weights=imagenet
python -m apps.captioning predict --run-dir DIR a.png b.jpg
"""

from __future__ import annotations

import collections
import dataclasses
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.apps.captioning.concepts import CNN_FILE as CONCEPT_CNN_FILE
from dltoolkit.apps.captioning.concepts import check_concepts, pretrain_concepts
from dltoolkit.apps.captioning.model import (
    build_model,
    make_caption,
    make_serve,
    token_accuracy,
)
from dltoolkit.apps.captioning.plots import plot_attention, plot_captions
from dltoolkit.data.captions import (
    START_ID,
    build_vocabulary,
    count_batches,
    image_dataset,
    load_captions,
    make_pipeline,
)
from dltoolkit.data.captions.scenes import names_objects_correctly
from dltoolkit.data.inputs import read_image_files
from dltoolkit.errors import ConfigError
from dltoolkit.metrics import corpus_bleu
from dltoolkit.models.backbones import (
    BackboneConfig,
    check_backbone_config,
    fine_tune_callbacks,
)
from dltoolkit.models.captioner import attention_weights
from dltoolkit.training.app import App, Evaluation, Pipelines, config_key
from dltoolkit.training.config import TrainConfig, write_text_atomic
from dltoolkit.training.decoders import (
    TracedFunctions,
    decode_all,
    export_beam_and_greedy,
    reference_streams,
    val_bleu_callback,
)
from dltoolkit.training.export import EXPORT_DIR, load_export
from dltoolkit.training.report import markdown_table

SIGNATURE_INPUT = "images"
CAPTION_BATCH = 128  # images per call of a caption function


@dataclasses.dataclass
class CaptioningConfig(TrainConfig, BackboneConfig):
    """Config of the captioning app.

    With ``backbone`` set (:class:`~dltoolkit.models.backbones.BackboneConfig`)
    that network is the CNN instead of ``encoder`` (``encoder_activation`` is
    not used; ``encoder_weights`` may not be set), cut at ``feature_layer``
    (one of its layers; default its last feature map).

    Attributes:
        data: ``embedded`` (generated shape scenes), the path of a Flickr8k
            folder (``Images/`` + ``captions.txt``) or ``tfds:NAME`` (e.g.
            ``tfds:coco_captions`` in the TFDS data dir).
        data_dir: the TFDS data dir (default: TFDS's own).
        train_images, val_images, test_images: embedded split sizes.
        max_images: at most this many images per real-data split (0: all).
        image_size: images are resized to image_size x image_size RGB.
        max_shapes, background, noise: the embedded scenes (1-3 shapes;
            ``plain`` or ``texture``; Gaussian pixel noise, 0-255 scale).
        vocab_size: vocabulary cap, special tokens included.
        max_caption_length: words a caption may have (longer ones are cut).
        captions_per_image: references of each image an epoch trains on
            (distinct, drawn at random; Flickr8k has 5).
        augment: random flip, shift and rotation strength for training
            images (0: off).
        encoder: a registry CNN (``dltk models``).
        encoder_activation: the CNN's activation; None keeps its default.
        encoder_weights: a classify run directory (or its ``model.keras``)
            whose CNN becomes the encoder, frozen unless ``train_encoder``.
        train_encoder: train the CNN; None: yes from scratch, no when
            pretrained.
        concept_epochs: with a registry ``encoder``, first train its CNN for
            up to this many epochs (early stopping) to predict the words of
            each training image's captions, in the prepare stage; the
            captioner then reads that CNN, frozen unless ``train_encoder``
            (see :mod:`dltoolkit.apps.captioning.concepts`). 0: off.
        concepts: the most frequent content words it predicts.
        decoder: ``lstm`` (Show, Attend and Tell) or ``transformer``.
        feature_layer, feature_dim, embedding_dim, units, attention,
            attention_units, conditioning, num_layers, num_heads, dropout:
            captioner options (None: the builder's default); ``conditioning``
            is ``init`` (s0 = CNN(I)), ``concat`` (image features beside the
            word at every step) or ``both``.
        beam_width: beam width of the headline BLEU and of the export.
        length_penalty: GNMT length penalty alpha of beam search.
        no_repeat_ngram: no n-gram of this size twice in a caption, in every
            decoding (0: off).
        val_bleu_size: validation images the ``val_bleu`` callback captions.
        val_bleu_every: score ``val_bleu`` every this many epochs.
    """

    data: str = "embedded"
    data_dir: str | None = None
    train_images: int = 8000
    val_images: int = 500
    test_images: int = 500
    max_images: int = 0
    image_size: int = 64
    max_shapes: int = 3
    background: str = "plain"
    noise: float = 0.0
    vocab_size: int = 5000
    max_caption_length: int = 20
    captions_per_image: int = 1
    augment: float = 0.0
    encoder: str = "lenet5"
    encoder_activation: str | None = None
    encoder_weights: str | None = None
    train_encoder: bool | None = None
    concept_epochs: int = 0
    concepts: int = 200
    decoder: str = "lstm"
    feature_layer: str | None = None
    feature_dim: int | None = None
    embedding_dim: int | None = None
    units: int | None = None
    attention: bool | None = None
    attention_units: int | None = None
    conditioning: str | None = None
    num_layers: int | None = None
    num_heads: int | None = None
    dropout: float | None = None
    beam_width: int = 3
    length_penalty: float = 0.6
    no_repeat_ngram: int = 0
    val_bleu_size: int = 500
    val_bleu_every: int = 1
    early_stopping_monitor: str = "val_bleu"
    early_stopping_patience: int = 4


# Profiles set no decoder-only option, so --set decoder=transformer works with
# each. quick: LeNet-5 features with ReLU (its default tanh saturates) and a
# 256-unit attention LSTM, on 16,000 scenes for 5 epochs, with gradient
# clipping for the LSTM; full: the same model for up to 30 epochs,
# the performance schedule on val_bleu lowering the rate when BLEU stalls, for
# near-exact captions at several times the run time.
PROFILES = {
    "smoke": dict(
        train_images=96,
        val_images=8,
        test_images=8,
        image_size=32,
        max_shapes=2,
        epochs=2,
        batch_size=32,
        feature_dim=16,
        units=32,
        beam_width=2,
        learning_rate=1e-2,
        val_bleu_size=8,
        early_stopping_patience=0,
    ),
    "quick": dict(
        train_images=16000,
        epochs=5,
        batch_size=64,
        encoder_activation="relu",
        units=256,
        learning_rate=3e-3,
        clipnorm=1.0,
        val_bleu_size=300,
    ),
    # real: a Flickr8k-size folder (hundreds to thousands of photographs) from
    # scratch: ResNet-18 at 96x96 first pretrained on the caption words of the
    # training images (concepts), then frozen under the attention LSTM; every
    # caption of an image each epoch, flips/shifts/rotations, a vocabulary of
    # the words seen about 3+ times, dropout, no repeated trigram in a caption.
    "real": dict(
        image_size=96,
        encoder="resnet18",
        concept_epochs=20,
        concepts=200,
        augment=0.1,
        captions_per_image=5,
        vocab_size=1000,
        epochs=20,
        batch_size=64,
        units=256,
        dropout=0.3,
        learning_rate=3e-3,
        clipnorm=1.0,
        no_repeat_ngram=3,
        val_bleu_size=500,
        early_stopping_patience=5,
    ),
    "full": dict(
        train_images=16000,
        epochs=30,
        batch_size=64,
        encoder_activation="relu",
        units=256,
        learning_rate=3e-3,
        clipnorm=1.0,
        schedule="performance",
        perf_monitor="val_bleu",
        perf_patience=2,
        early_stopping_patience=6,
    ),
}


class CaptioningApp(App):
    name = "captioning"
    config_cls = CaptioningConfig
    data_fields = (
        "data",
        "data_dir",
        "train_images",
        "val_images",
        "test_images",
        "max_images",
        "image_size",
        "max_shapes",
        "background",
        "noise",
        "vocab_size",
        "max_caption_length",
    )
    profiles = PROFILES
    headline = "bleu4"
    objective = "val_bleu"

    def __init__(self):
        super().__init__()
        # The caption functions of each model, shared by the val_bleu
        # callback, the evaluation and the export (each traced once).
        self._captioners = TracedFunctions()
        self._concept_cnns: dict[str, Path] = {}  # config key -> CNN file

    # === Data ===

    def load_data(self, config):
        for key in ("max_caption_length", "beam_width", "image_size"):
            if getattr(config, key) < 1:
                raise ConfigError(
                    f"{key} must be >= 1. Received: {getattr(config, key)}"
                )
        check_backbone_config(config)
        check_concepts(config)
        try:
            data = load_captions(
                config.data,
                sizes=(config.train_images, config.val_images, config.test_images),
                seed=config.seed,
                image_size=config.image_size,
                max_shapes=config.max_shapes,
                background=config.background,
                noise=config.noise,
                data_dir=config.data_dir,
                max_images=config.max_images,
            )
        except ValueError as err:
            raise ConfigError(str(err)) from None
        data.vocabulary = build_vocabulary(data.train.references, config.vocab_size)
        return data

    def describe_data(self, data) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in data.sizes.items())
        refs = data.train.references[0]
        return (
            f"{data.source}; {sizes} images; vocabulary {len(data.vocabulary):,} "
            f"tokens (4 special).\n\nReferences of the first training image: "
            + "; ".join(f"`{r}`" for r in refs)
        )

    def pipelines(self, config, data) -> Pipelines:
        kwargs = dict(
            image_size=config.image_size,
            max_length=config.max_caption_length,
            batch_size=config.batch_size,
            seed=config.seed,
        )
        try:
            train = make_pipeline(
                data.train,
                data.vocabulary,
                shuffle=True,
                captions_per_image=config.captions_per_image,
                augment=config.augment,
                **kwargs,
            )
        except ValueError as err:
            raise ConfigError(str(err)) from None
        return Pipelines(
            train=train,
            val=make_pipeline(data.val, data.vocabulary, shuffle=False, **kwargs),
            steps_per_epoch=count_batches(
                data.train, config.batch_size, config.captions_per_image
            ),
        )

    # === Model ===

    def prepare(self, config, data, run_dir: Path) -> None:
        """With ``concept_epochs``: the concept-pretrained CNN, kept in
        ``run_dir/concept_cnn.keras`` (reused when there)."""
        if not config.concept_epochs:
            return
        path = Path(run_dir) / CONCEPT_CNN_FILE
        if not path.is_file():
            print(
                f"concept pretraining: {config.encoder} on {config.concepts} "
                f"caption words, up to {config.concept_epochs} epoch(s)"
            )
            images = (_images(data.train, config), _images(data.val, config))
            pretrain_concepts(config, data, images, path)
        self._concept_cnns[config_key(config)] = path

    def build_model(self, config, data):
        cnn = self._concept_cnns.get(config_key(config))
        if config.concept_epochs and cnn is None:
            raise ConfigError(
                "concept_epochs is set but the prepare stage has not run "
                "(App.run_prepare trains the concept CNN)."
            )
        if cnn is not None:
            cnn = keras.models.load_model(cnn)
        return build_model(config, len(data.vocabulary), concept_cnn=cnn)

    def loss_and_metrics(self, config):
        loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
        return loss, [token_accuracy]

    def chance_loss(self, config, data):
        return math.log(len(data.vocabulary))

    def captioner(self, model, config, data, *, beam_width: int):
        """The traced ``images -> captions`` function of ``model``."""
        key = (
            beam_width,
            config.length_penalty,
            config.max_caption_length,
            config.no_repeat_ngram,
        )
        size = config.image_size
        return self._captioners.get(
            model,
            key,
            lambda: make_caption(model, config, data.vocabulary, beam_width=beam_width),
            [tf.TensorSpec([None, size, size, 3], tf.float32)],
        )

    def server(self, model, config, data, *, beam_width: int):
        """The traced ``image bytes -> captions`` function (the export's)."""
        key = (
            "bytes",
            beam_width,
            config.length_penalty,
            config.max_caption_length,
            config.no_repeat_ngram,
        )
        return self._captioners.get(
            model,
            key,
            lambda: make_serve(
                self.captioner(model, config, data, beam_width=beam_width),
                config.image_size,
            ),
            [_SPEC],
        )

    def callbacks(self, config, data, model, run_dir):
        return fine_tune_callbacks(config) + [
            val_bleu_callback(
                self.captioner(model, config, data, beam_width=1),
                "caption",
                _images(data.val, config),
                data.val.references,
                config,
                batch_size=CAPTION_BATCH,
            )
        ]

    # === Evaluation ===

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        images = _images(data.test, config)
        references = data.test.references
        beam, greedy = (
            decode_all(
                self.captioner(model, config, data, beam_width=width),
                images,
                "caption",
                CAPTION_BATCH,
            )
            for width in (config.beam_width, 1)
        )
        metrics = bleu_metrics(beam, references)
        metrics["bleu4_greedy"] = bleu_metrics(greedy, references)["bleu4"]
        # The floor a captioner must clear: one caption for every image.
        constant = constant_caption(data)
        metrics["bleu4_constant"] = bleu_metrics(
            [constant] * len(references), references
        )["bleu4"]
        metrics["constant_caption"] = constant
        metrics["exact_match"] = round(
            float(np.mean([c in refs for c, refs in zip(beam, references)])), 4
        )
        if data.test.scenes is not None:
            metrics["attribute_accuracy"] = attribute_accuracy(beam, data.test.scenes)
        metrics["test_examples"] = len(beam)
        metrics["beam_width"] = config.beam_width
        write_text_atomic(
            run_dir / "test_captions.tsv",
            "index\tbeam\tgreedy\treferences\n"
            + "".join(
                f"{i}\t{b}\t{g}\t{' | '.join(r)}\n"
                for i, (b, g, r) in enumerate(zip(beam, greedy, references))
            ),
        )
        shown = min(8, len(beam))
        plots = [plot_captions(images[:shown], beam[:shown], run_dir / "samples.png")]
        plots += self._attention_plots(model, data, images, beam, run_dir)
        rows = [
            [i, f"`{beam[i]}`", f"`{greedy[i]}`", f"`{references[i][0]}`"]
            for i in range(min(12, len(beam)))
        ]
        sections = [
            (
                "Sample captions (test split)",
                markdown_table(
                    ["#", f"beam {config.beam_width}", "greedy", "first reference"],
                    rows,
                )
                + "\n\nAll test captions: `test_captions.tsv`; images with their "
                "captions: `samples.png`.",
            ),
            (
                "Bad input (the export)",
                'Bytes that are not PNG, JPEG, GIF or BMP get the caption `""` '
                "and the status `not an image`; grayscale, RGBA and palette images "
                "are read as RGB and any size is resized to "
                f"{config.image_size}x{config.image_size}.",
            ),
        ]
        return Evaluation(metrics=metrics, sections=sections, plots=plots)

    def _attention_plots(self, model, data, images, captions, run_dir):
        """Per-word attention over the first test images (LSTM with attention)."""
        index = {w: i for i, w in enumerate(data.vocabulary)}
        plots = []
        for i in range(min(2, len(captions))):
            words = captions[i].split()
            ids = [START_ID, *(index[w] for w in words)]
            weights = attention_weights(model, images[i : i + 1], np.array([ids]))
            if weights is None:
                return []
            grid = model.get_layer("encoder").get_layer("cnn").output.shape[1:3]
            plots.append(
                plot_attention(
                    images[i],
                    [*words, "[end]"],
                    weights[0],
                    tuple(grid),
                    run_dir / f"attention_{i}.png",
                )
            )
        return plots

    # === Export and predict ===

    def export(self, model, data, config, path: Path) -> Path:
        return export_beam_and_greedy(
            path,
            model,
            lambda width: self.server(model, config, data, beam_width=width),
            beam_width=config.beam_width,
            input_spec=_SPEC,
        )

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        """One ``path<TAB>caption`` line per image file."""
        serve = load_export(Path(run_dir) / EXPORT_DIR)
        blobs = read_image_files(inputs)
        out = serve(**{SIGNATURE_INPUT: tf.constant(blobs)})
        return [
            f"{name}\t{text.decode()}"
            for name, text in zip(inputs, out["caption"].numpy())
        ]


_SPEC = tf.TensorSpec([None], tf.string, name=SIGNATURE_INPUT)


def _images(split, config) -> np.ndarray:
    """The model's float input of a split, in order."""
    ds = image_dataset(split, config.image_size).batch(256)
    return np.concatenate([x.numpy() for x in ds])


def bleu_metrics(hypotheses: list[str], references: list[list[str]]) -> dict:
    """BLEU-1 ... BLEU-4 (0-100) against all references, and the signature."""
    streams = reference_streams(references)
    out = {}
    for n in range(1, 5):
        score = corpus_bleu(hypotheses, streams, max_ngram_order=n)
        out[f"bleu{n}"] = round(score.score, 2)
        if n == 4:
            out["bleu_signature"] = score.signature
    return out


def constant_caption(data, candidates: int = 100) -> str:
    """The training caption that, given for every validation image, scores the
    best BLEU-4 there, among the ``candidates`` most frequent ones.

    What a model that ignores its images can reach at best: on small real sets
    a fluent generic caption ("a man is standing in front of a building")
    scores a BLEU-4 that looks like learning; the report shows it beside the
    model's.
    """
    counts = collections.Counter(c for refs in data.train.references for c in refs)
    pool = [c for c, _ in counts.most_common(candidates)]
    streams = reference_streams(data.val.references)
    n = len(data.val)
    return max(pool, key=lambda c: corpus_bleu([c] * n, streams).score)


def attribute_accuracy(captions: list[str], scenes) -> float:
    """Share of captions that name every shape with its true color, and no other."""
    correct = [names_objects_correctly(c, s) for c, s in zip(captions, scenes)]
    return round(float(np.mean(correct)), 4)


APP = CaptioningApp()
