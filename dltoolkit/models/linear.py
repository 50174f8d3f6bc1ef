"""Linear classifiers over (sparse) feature vectors: NB-weighted logistic regression."""

from __future__ import annotations

import keras

from dltoolkit.layers.scaled_dense import ScaledDense
from dltoolkit.models.registry import register


@register("nb_logistic_regression", family="linear")
def build_nb_logistic_regression(
    input_shape,
    num_classes,
    *,
    scale=None,
    l2=0.0,
    dropout=0.0,
    sparse=True,
    classifier_activation="softmax",
    name="nb_logistic_regression",
):
    """Logistic regression on features multiplied by fixed weights ``scale``.

    With binary n-gram features and ``scale`` their naive-Bayes log-count
    ratios (:func:`dltoolkit.data.sentiment.ngrams.log_count_ratios`) this is
    the NB-weighted logistic regression of Wang and Manning (NBSVM with a
    logistic loss); with ``scale`` None it is plain logistic regression (all
    ones). Kernel and bias start at zero.

    Args:
        input_shape: ``(num_features,)``.
        num_classes: output units.
        scale: ``num_features`` fixed feature weights, or None (ones).
        l2: L2 penalty on the kernel: ``l2 * sum(W ** 2)`` is added to the
            loss (scikit-learn's ``C`` on ``n`` examples: ``l2 = 1 / (2 C n)``).
        dropout: training only: share of each example's present features
            dropped.
        sparse: the input is a ``tf.SparseTensor`` (False: dense).
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``: ``(batch, num_features)`` to
        ``(batch, num_classes)``; its layer ``"scaled_dense"`` is a
        :class:`~dltoolkit.layers.ScaledDense`.

    References:
        Wang and Manning, "Baselines and Bigrams: Simple, Good Sentiment and
        Topic Classification", ACL 2012.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 1 or not (
        isinstance(input_shape[0], int) and input_shape[0] >= 1
    ):
        raise ValueError(
            "nb_logistic_regression expects input_shape=(num_features,). "
            f"Received: input_shape={input_shape}"
        )
    if classifier_activation not in ("softmax", "sigmoid", "linear"):
        raise ValueError(
            "classifier_activation must be softmax, sigmoid or linear. "
            f"Received: classifier_activation={classifier_activation!r}"
        )
    features = keras.Input(input_shape, sparse=bool(sparse), name="features")
    layer = ScaledDense(
        num_classes,
        activation=classifier_activation,
        dropout=dropout,
        l2=l2,
        name="scaled_dense",
    )
    model = keras.Model(features, layer(features), name=name)
    if scale is not None:
        layer.set_scale(scale)
    return model
