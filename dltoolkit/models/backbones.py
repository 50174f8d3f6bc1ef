"""Pretrained image backbones from ``keras.applications`` for the image apps.

``backbone=keras:NAME`` (optionally ``keras:NAME(alpha=0.35)``, keyword
arguments of the application function) names any ``keras.applications``
model without its top; ``backbone_weights`` is ``imagenet`` (Keras's own
download and cache under ``$KERAS_HOME``), the path of a weights file
(``.weights.h5`` saved by ``save_weights``, or a legacy ``.h5`` such as
Keras's cached ``*_notop.h5``), or None (random initialization, trained from
scratch like a registry CNN).

:func:`backbone_features` builds ``image in [0, 1] -> feature map``: the
network's own ``preprocess_input`` as a layer
(:class:`~dltoolkit.layers.ImagePreprocessing`), the backbone and, when
fine-tuning is set, a :class:`~dltoolkit.layers.FineTuneGate`. A pretrained
backbone is always called with ``training=False`` (batch norm uses its moving
statistics; the Keras transfer-learning guide's rule) and is frozen: only
the app's new layers train. With ``fine_tune_at_epoch`` its top
``fine_tune_layers`` layers (batch norm excepted) are trainable from the start
but behind the closed gate; :class:`FineTuneSwitch` opens the gate and sets
the learning rate to ``fine_tune_learning_rate`` at that epoch. The gate is a
saved weight and the learning rate an optimizer variable, so a resumed run
continues in the right phase.

References:
    Keras developer guide, "Transfer learning & fine-tuning"
    (https://keras.io/guides/transfer_learning/).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import sys
import warnings
from pathlib import Path

import keras
import numpy as np

from dltoolkit.errors import ConfigError
from dltoolkit.layers import FineTuneGate, ImagePreprocessing

PREFIX = "keras:"
# Arguments of the application functions that the backbone sets itself.
_RESERVED = ("include_top", "weights", "input_tensor", "input_shape", "classes")
_SPEC = re.compile(r"^keras:([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$")
FLOAT_SCHEDULES = ("constant", "performance")


@dataclasses.dataclass
class BackboneConfig:
    """Settings of a pretrained backbone (a mixin of the image apps' configs).

    Attributes:
        backbone: ``keras:NAME`` (any ``keras.applications`` model without its
            top, e.g. ``keras:EfficientNetB0``, ``keras:ResNet50``,
            ``keras:MobileNetV2(alpha=0.35)``) in place of the app's own CNN;
            None: the app's own CNN.
        backbone_weights: ``imagenet`` (Keras's download), a weights file
            (``.weights.h5`` or ``.h5``) or None (random initialization,
            trained from scratch). Pretrained backbones are frozen.
        fine_tune_at_epoch: with pretrained weights, fine-tune the backbone
            from this epoch on (1-based; 0: never).
        fine_tune_layers: how many top layers of the backbone fine-tuning
            trains (batch norm stays frozen); None: all.
        fine_tune_learning_rate: the learning rate from the fine-tuning epoch
            on; None: learning_rate / 10.
    """

    backbone: str | None = None
    backbone_weights: str | None = None
    fine_tune_at_epoch: int = 0
    fine_tune_layers: int | None = None
    fine_tune_learning_rate: float | None = None


def parse_backbone(spec: str) -> tuple[str, dict]:
    """``"keras:NAME(k=v, ...)"`` -> ``(NAME, {k: v})``; checks the name."""
    match = _SPEC.match(str(spec).strip())
    if not match:
        raise ConfigError(
            "backbone takes the form keras:NAME or keras:NAME(key=value, ...), "
            "NAME a keras.applications model (e.g. keras:EfficientNetB0). "
            f"Received: backbone={spec!r}"
        )
    name, args = match.group(1), match.group(2)
    fn = getattr(keras.applications, name, None)
    if not callable(fn) or isinstance(fn, type):
        raise ConfigError(
            f"keras.applications has no model {name!r}. Valid names: "
            f"{', '.join(application_names())}."
        )
    options = {}
    if args and args.strip():
        try:
            call = ast.parse(f"f({args})", mode="eval").body
            if call.args:
                raise ValueError("positional argument")
            options = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        except (SyntaxError, ValueError):
            raise ConfigError(
                f"backbone options must be key=value literals. Received: {spec!r}"
            ) from None
    accepted = inspect.signature(fn).parameters
    for key in options:
        if key in _RESERVED or key not in accepted:
            takes = [k for k in accepted if k not in _RESERVED]
            raise ConfigError(
                f"keras.applications.{name} takes no option {key!r} here; "
                f"it takes: {', '.join(takes)}."
            )
    return name, options


def application_names() -> list[str]:
    """The model functions of ``keras.applications``."""
    return sorted(
        name
        for name in dir(keras.applications)
        if name[:1].isupper() and callable(getattr(keras.applications, name))
    )


def check_backbone_config(config) -> None:
    """Refuses inconsistent backbone settings with one line (before any work)."""
    if not config.backbone:
        for key in ("backbone_weights",):
            if getattr(config, key):
                raise ConfigError(
                    f"{key} needs a backbone (--set backbone=keras:NAME). "
                    f"Received: {key}={getattr(config, key)!r}"
                )
        if config.fine_tune_at_epoch:
            raise ConfigError(
                "fine_tune_at_epoch needs a pretrained backbone "
                "(--set backbone=keras:NAME --set backbone_weights=...)."
            )
        return
    parse_backbone(config.backbone)
    if config.fine_tune_at_epoch < 0:
        raise ConfigError(
            f"fine_tune_at_epoch must be >= 0 (0: never). "
            f"Received: {config.fine_tune_at_epoch}"
        )
    if config.fine_tune_layers is not None and config.fine_tune_layers < 1:
        raise ConfigError(
            "fine_tune_layers must be >= 1, or None for all layers. "
            f"Received: {config.fine_tune_layers}"
        )
    rate = config.fine_tune_learning_rate
    if rate is not None and not rate > 0:
        raise ConfigError(f"fine_tune_learning_rate must be > 0. Received: {rate}")
    if config.fine_tune_at_epoch:
        if not config.backbone_weights:
            raise ConfigError(
                "fine_tune_at_epoch needs pretrained weights (backbone_weights="
                "imagenet or a file); a backbone from scratch trains all its "
                "layers from the start."
            )
        if config.schedule not in FLOAT_SCHEDULES:
            raise ConfigError(
                "fine-tuning sets the learning rate at fine_tune_at_epoch, which "
                f"needs schedule {' or '.join(FLOAT_SCHEDULES)}. "
                f"Received: schedule={config.schedule!r}"
            )


def build_backbone(spec: str, input_shape, weights: str | None) -> keras.Model:
    """The ``keras.applications`` model ``spec`` without its top, named
    ``"backbone"``, with ``weights`` loaded (see the module docstring)."""
    name, options = parse_backbone(spec)
    fn = getattr(keras.applications, name)
    shape = tuple(int(d) for d in input_shape)
    try:
        model = fn(include_top=False, weights=None, input_shape=shape, **options)
    except ValueError as err:
        raise ConfigError(
            f"backbone={spec} cannot read {shape[0]}x{shape[1]}x{shape[2]} images "
            f"(image_size={shape[0]}): {_first_line(err)}"
        ) from None
    if weights == "imagenet":
        model = _imagenet(fn, name, shape, options, spec)
    elif weights:
        _load_file(model, Path(weights), spec)
    return keras.Model(model.inputs[0], model.outputs[0], name="backbone")


def _imagenet(fn, name, shape, options, spec) -> keras.Model:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(
                include_top=False, weights="imagenet", input_shape=shape, **options
            )
    except Exception as err:  # get_file raises a bare Exception when offline
        if isinstance(err, OSError) or "URL fetch failure" in str(err):
            raise ConfigError(
                f"backbone_weights=imagenet needs network access to download "
                f"{name}'s weights; offline, pass a weights file: --set "
                f"backbone_weights=PATH (save one elsewhere with "
                f"keras.applications.{name}(weights='imagenet').save_weights"
                f"('{name}.weights.h5'))."
            ) from None
        raise ConfigError(
            f"backbone_weights=imagenet for backbone={spec}: {_first_line(err)}"
        ) from None


def _load_file(model: keras.Model, path: Path, spec: str) -> None:
    if not path.name.endswith((".weights.h5", ".h5")):
        raise ConfigError(
            "backbone_weights must be imagenet or a .weights.h5 (or .h5) file. "
            f"Received: {path}"
        )
    if not path.is_file():
        raise ConfigError(
            f"backbone_weights: no file {path} (save one with keras.applications."
            f"{parse_backbone(spec)[0]}(include_top=False, ...).save_weights(PATH))."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.load_weights(path)
    except Exception as err:
        raise ConfigError(
            f"backbone_weights: {path} does not hold the weights of backbone="
            f"{spec} without its top (include_top=False): {_first_line(err)}"
        ) from None


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def preprocessing_mode(spec: str) -> str:
    """Which of ``ImagePreprocessing.MODES`` the network's ``preprocess_input``
    is, found by running it on a probe image."""
    fn = getattr(keras.applications, parse_backbone(spec)[0])
    preprocess = sys.modules[fn.__module__].preprocess_input
    probe = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    want = np.asarray(preprocess(probe.copy()))
    for mode in ("none", "tf", "torch", "caffe"):
        got = np.asarray(ImagePreprocessing(mode, scale=1.0)(probe))
        if want.shape == got.shape and np.allclose(want, got, atol=1e-3):
            return mode
    raise ConfigError(
        f"backbone={spec}: its preprocess_input is none of the known modes "
        "(none, tf, torch, caffe)."
    )


def pretrained(config) -> bool:
    return bool(config.backbone and config.backbone_weights)


def backbone_features(
    config, input_shape, *, feature_layer: str | None = None, name="backbone_features"
) -> keras.Model:
    """``image (B, H, W, 3) in [0, 1] -> feature map (B, h, w, d)``.

    ``config`` has the :class:`BackboneConfig` fields; ``feature_layer`` cuts
    the backbone at one of its layers (None: its last feature map).
    """
    check_backbone_config(config)
    base = build_backbone(config.backbone, input_shape, config.backbone_weights)
    if feature_layer:
        try:
            layer = base.get_layer(feature_layer)
        except ValueError:
            raise ConfigError(
                f"backbone={config.backbone} has no layer {feature_layer!r}. "
                f"Received: feature_layer={feature_layer!r}"
            ) from None
        if len(layer.output.shape) != 4:
            raise ConfigError(
                f"feature_layer must give a spatial (B, h, w, d) output; "
                f"{feature_layer!r} gives {layer.output.shape}."
            )
        base = keras.Model(base.inputs[0], layer.output, name="backbone")
    is_pretrained = pretrained(config)
    fine_tune = is_pretrained and config.fine_tune_at_epoch > 0
    set_trainable(base, is_pretrained, fine_tune, config.fine_tune_layers)
    image = keras.Input(tuple(input_shape), name="image")
    x = ImagePreprocessing(preprocessing_mode(config.backbone), name="preprocessing")(
        image
    )
    x = base(x, training=False) if is_pretrained else base(x)
    if fine_tune:
        x = FineTuneGate(name="fine_tune_gate")(x)
    return keras.Model(image, x, name=name)


def set_trainable(base, is_pretrained: bool, fine_tune: bool, top: int | None):
    """From scratch: all trainable. Pretrained: frozen, or with fine-tuning its
    top ``top`` layers (all if None) trainable, batch norm excepted."""
    base.trainable = True
    if not is_pretrained:
        return
    if not fine_tune:
        base.trainable = False
        return
    layers = base.layers
    tuned = set(map(id, layers if top is None else layers[-top:]))
    for layer in layers:
        layer.trainable = id(layer) in tuned and not isinstance(
            layer, keras.layers.BatchNormalization
        )


class FineTuneSwitch(keras.callbacks.Callback):
    """Opens the model's fine-tuning gates and sets the fine-tuning learning
    rate at the start of epoch ``at_epoch`` (1-based).

    A resumed run whose gates are already open (restored from the backup)
    keeps its restored learning rate.
    """

    def __init__(self, at_epoch: int, learning_rate: float):
        super().__init__()
        self.at_epoch = int(at_epoch)
        self.learning_rate = float(learning_rate)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 < self.at_epoch:
            return
        gates = find_gates(self.model)
        if not gates or all(float(g.open.numpy()) == 1.0 for g in gates):
            return
        for gate in gates:
            gate.open.assign(1.0)
        self.model.optimizer.learning_rate = self.learning_rate


def find_gates(model) -> list[FineTuneGate]:
    """Every :class:`FineTuneGate` inside ``model``, nested models included."""
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, FineTuneGate):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


def fine_tune_callbacks(config) -> list:
    """The app's fine-tuning callback for ``config`` ([] without fine-tuning)."""
    if not (pretrained(config) and config.fine_tune_at_epoch > 0):
        return []
    rate = config.fine_tune_learning_rate or config.learning_rate / 10
    return [FineTuneSwitch(config.fine_tune_at_epoch, rate)]
