"""The course's layer options, shared by every builder.

Builders take these keyword arguments by name: ``activation``,
``kernel_initializer``, ``regularizer``, ``regularization``, ``dropout`` and
``batch_norm``. :class:`LayerOptions` validates them once and makes the layers.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers

from dltoolkit.layers import RReLU

ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "rrelu",
    "elu",
    "selu",
    "softplus",
)
INITIALIZERS = {
    "glorot_normal": "glorot_normal",
    "glorot_uniform": "glorot_uniform",
    "he_normal": "he_normal",
    "he_uniform": "he_uniform",
    "lecun_normal": "lecun_normal",
    "lecun_uniform": "lecun_uniform",
    # Short names: the usual pairing of each scheme.
    "glorot": "glorot_uniform",
    "he": "he_normal",
    "lecun": "lecun_normal",
}
REGULARIZERS = ("l1", "l2", "l1_l2", "max_norm")
# The strength used when `regularization` is not given: a penalty weight for
# l1/l2/l1_l2 and the norm cap for max_norm.
DEFAULT_REGULARIZATION = {"l1": 1e-5, "l2": 1e-4, "l1_l2": 1e-5, "max_norm": 3.0}
LEAKY_SLOPE = 0.01  # the course: "usually the value of a is 0.01"


def _choice_error(argument: str, value, valid) -> ValueError:
    names = ", ".join(str(v) for v in valid)
    return ValueError(f"Unknown {argument} {value!r}. Valid: {names}.")


@dataclasses.dataclass(frozen=True)
class LayerOptions:
    """Validated layer options that make the builders' layers.

    Args:
        activation: hidden activation, one of :data:`ACTIVATIONS`.
        kernel_initializer: one of :data:`INITIALIZERS`.
        regularizer: None or one of :data:`REGULARIZERS`.
        regularization: penalty weight (l1, l2, l1_l2) or norm cap (max_norm);
            None takes :data:`DEFAULT_REGULARIZATION`.
        dropout: dropout rate in [0, 1).
        batch_norm: insert batch normalization before each hidden activation.
    """

    activation: str = "relu"
    kernel_initializer: str = "he_normal"
    regularizer: str | None = None
    regularization: float | None = None
    dropout: float = 0.0
    batch_norm: bool = False

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise _choice_error("activation", self.activation, ACTIVATIONS)
        if self.kernel_initializer not in INITIALIZERS:
            raise _choice_error(
                "kernel_initializer", self.kernel_initializer, INITIALIZERS
            )
        if self.regularizer is not None and self.regularizer not in REGULARIZERS:
            raise _choice_error("regularizer", self.regularizer, REGULARIZERS)
        if self.regularization is not None and self.regularization <= 0:
            raise ValueError(
                "regularization must be positive. "
                f"Received: regularization={self.regularization}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(
                f"dropout must be in [0, 1). Received: dropout={self.dropout}"
            )

    # === Keras objects ===

    def initializer(self):
        return keras.initializers.get(INITIALIZERS[self.kernel_initializer])

    def kernel_kwargs(self) -> dict:
        """Initializer, regularizer and constraint for a Dense or Conv layer."""
        kwargs = {"kernel_initializer": self.initializer()}
        if self.regularizer is None:
            return kwargs
        strength = self.regularization or DEFAULT_REGULARIZATION[self.regularizer]
        if self.regularizer == "max_norm":
            kwargs["kernel_constraint"] = keras.constraints.MaxNorm(strength)
        elif self.regularizer == "l1":
            kwargs["kernel_regularizer"] = keras.regularizers.L1(strength)
        elif self.regularizer == "l2":
            kwargs["kernel_regularizer"] = keras.regularizers.L2(strength)
        else:
            kwargs["kernel_regularizer"] = keras.regularizers.L1L2(strength, strength)
        return kwargs

    def activation_layer(self, name: str, activation: str | None = None):
        """Returns the activation as a layer (PReLU shares its slope over space)."""
        activation = activation or self.activation
        if activation == "leaky_relu":
            return layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=name)
        if activation == "prelu":
            return _SpatialPReLU(name=name)
        if activation == "rrelu":
            return RReLU(name=name)
        if activation not in ACTIVATIONS:
            raise _choice_error("activation", activation, ACTIVATIONS)
        return layers.Activation(activation, name=name)

    # === Blocks (tensor in, tensor out) ===

    def dense(self, x, units: int, name: str, *, activate: bool = True):
        """Dense, then batch norm (if on), then the activation."""
        x = layers.Dense(units, name=name, **self.kernel_kwargs())(x)
        if self.batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
        if activate:
            x = self.activation_layer(f"{name}_{self.activation}")(x)
        return x

    def conv(
        self,
        x,
        filters: int,
        kernel_size,
        name: str,
        *,
        strides=1,
        padding: str = "same",
        use_bias: bool = True,
        batch_norm: bool | None = None,
        activate: bool = True,
    ):
        """Conv2D, then batch norm (if on), then the activation."""
        x = layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=use_bias,
            name=name,
            **self.kernel_kwargs(),
        )(x)
        if self.batch_norm if batch_norm is None else batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
        if activate:
            x = self.activation_layer(f"{name}_{self.activation}")(x)
        return x

    def drop(self, x, name: str, rate: float | None = None):
        """Dropout at ``rate`` (default: the options' rate); identity at 0."""
        rate = self.dropout if rate is None else rate
        return layers.Dropout(rate, name=name)(x) if rate > 0 else x


@keras.saving.register_keras_serializable(package="dltoolkit")
class _SpatialPReLU(layers.PReLU):
    """PReLU with one slope per channel: shared over all but the last axis."""

    def build(self, input_shape):
        if len(input_shape) > 2 and self.shared_axes is None:
            self.shared_axes = list(range(1, len(input_shape) - 1))
        super().build(input_shape)


CLASSIFIER_ACTIVATIONS = ("softmax", "sigmoid", "linear", None)


def classifier(
    x, num_classes: int, *, classifier_activation="softmax", name="predictions"
):
    """The output layer: ``num_classes`` units with ``classifier_activation``."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            "num_classes must be a positive integer. "
            f"Received: num_classes={num_classes!r}"
        )
    if classifier_activation not in CLASSIFIER_ACTIVATIONS:
        raise _choice_error(
            "classifier_activation", classifier_activation, CLASSIFIER_ACTIVATIONS
        )
    # float32 outputs under mixed precision, as the Keras guide recommends.
    return layers.Dense(
        num_classes, activation=classifier_activation, dtype="float32", name=name
    )(x)
