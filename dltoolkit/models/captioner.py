"""Image captioning: a registry CNN encoder and an LSTM or Transformer decoder."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from dltoolkit.layers import (
    BahdanauAttentionCell,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
)
from dltoolkit.layers.spatial_coordinates import SpatialCoordinates
from dltoolkit.models.registry import builder_info, register
from dltoolkit.models.rnn import (
    check_choice,
    check_positive_int,
    check_rate,
    dense_logits,
    embedding_lookup,
)
from dltoolkit.models.transformer import fit_length, logits_reader

DECODERS = ("lstm", "transformer")
CONDITIONINGS = ("init", "concat", "both")
PAD_ID = 0


# === Encoder ===


def feature_extractor(cnn: keras.Model, feature_layer: str | None = None):
    """The CNN up to its spatial feature map: ``image -> (B, h, w, d)``.

    Args:
        cnn: an image model, e.g. a registry CNN or a trained classifier.
        feature_layer: the layer whose output is the feature map; None takes
            the model's own output when it is 4D, else the last layer with a
            4D output (before pooling or flattening).
    """
    if feature_layer is None and len(cnn.outputs[0].shape) == 4:
        return keras.Model(cnn.inputs, cnn.outputs[0], name="cnn")  # a feature CNN
    if feature_layer is None:
        spatial = [layer for layer in cnn.layers if len(layer.output.shape) == 4]
        if not spatial:
            raise ValueError(f"{cnn.name} has no layer with a spatial (4D) output.")
        layer = spatial[-1]
    else:
        try:
            layer = cnn.get_layer(feature_layer)
        except ValueError:
            raise ValueError(
                f"{cnn.name} has no layer {feature_layer!r}. Received: "
                f"feature_layer={feature_layer!r}"
            ) from None
        if len(layer.output.shape) != 4:
            raise ValueError(
                f"feature_layer must give a spatial (B, h, w, d) output; "
                f"{feature_layer!r} gives {layer.output.shape}."
            )
    return keras.Model(cnn.inputs, layer.output, name="cnn")


def _image_encoder(cnn, input_shape, feature_dim, units, trainable, vector=True):
    """``image -> [memory (B, h*w, F), image_vector (B, units)]`` (or memory)."""
    image = keras.Input(tuple(input_shape), name="image")
    if trainable is not None:  # None: the CNN's own flags (a pretrained backbone)
        cnn.trainable = trainable
    fmap = cnn(image, training=False if trainable is False else None)  # (B, h, w, d)
    h, w, d = fmap.shape[1:]
    x = SpatialCoordinates(name="coordinates")(fmap)  # (B, h, w, d + 2)
    x = layers.Reshape((h * w, d + 2), name="positions")(x)
    memory = layers.Dense(feature_dim, activation="relu", name="feature_projection")(
        x
    )  # (B, N, F)
    if not vector:
        return keras.Model(image, memory, name="encoder")
    flat = layers.Flatten(name="flatten")(memory)
    vector = layers.Dense(units, activation="tanh", name="image_embedding")(flat)
    return keras.Model(image, [memory, vector], name="encoder")


# === Builder ===


@register("captioner", family="captioning")
def build_captioner(
    input_shape,
    num_classes,
    *,
    caption_length=None,
    encoder="lenet5",
    encoder_options=None,
    feature_layer=None,
    encoder_trainable=True,
    feature_dim=64,
    decoder="lstm",
    embedding_dim=64,
    units=256,
    attention=None,
    attention_units=64,
    conditioning=None,
    num_layers=2,
    num_heads=4,
    dropout=0.0,
    name="captioner",
):
    """Builds an image-captioning model trained with teacher forcing.

    Inputs ``{"image": (B, H, W, C) floats, "tokens": (B, T) ids}``, where
    ``tokens`` is the caption shifted right behind a start token; output
    ``(B, T, num_classes)`` probabilities of the next word. The encoder is a
    CNN cut at its last spatial feature map; each of its ``h*w`` positions,
    with its coordinates appended, is projected to ``feature_dim`` (the
    "annotation vectors" ``a_i``), and their flattened whole to the image
    vector ``v = tanh(W flatten(a))``.

    LSTM decoder (Show, Attend and Tell): with ``attention`` each step reads
    ``z_t = sum_i alpha_ti a_i`` (Bahdanau attention on ``h_{t-1}``) beside
    the word; ``conditioning`` feeds the image the course's two ways:
    ``"init"`` sets ``s_0 = (tanh(W_h v), W_c v)`` (``s0 = CNN(I)``),
    ``"concat"`` concatenates ``v`` to the word embedding at every step
    (``s_0 = 0``), ``"both"`` does both. Transformer decoder: causal
    self-attention over the words and cross-attention over the ``a_i``.

    Args:
        input_shape: ``(height, width, channels)`` of the image.
        num_classes: the vocabulary size (id 0 is padding).
        caption_length: length ``T`` of ``tokens``; needed by the transformer
            (positions), None (any) for the LSTM.
        encoder: a registry CNN name, or a built image ``keras.Model`` (e.g.
            a trained classifier, to reuse its features).
        encoder_options: builder options for a named encoder.
        feature_layer: the encoder layer giving the feature map; None takes
            the last spatial one.
        encoder_trainable: False freezes the CNN (pretrained features); None
            keeps the trainable flags of a given ``encoder`` model (a
            pretrained backbone that fixes its own, see
            :mod:`dltoolkit.models.backbones`).
        feature_dim: size of the projected annotation vectors.
        decoder: ``"lstm"`` or ``"transformer"``.
        embedding_dim: word embedding size (LSTM).
        units: LSTM units, or the transformer's feed-forward width.
        attention: visual attention on or off (LSTM; default on).
        attention_units: size of the attention space (the image keys are
            projected to it at every step, so it drives the attention cost).
        conditioning: ``"init"`` (default), ``"concat"`` or ``"both"`` (LSTM).
        num_layers, num_heads: transformer blocks and heads (``feature_dim``
            is the transformer's width).
        dropout: rate on the decoder's inputs and outputs.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` with the sub-model ``"encoder"``
        (``image -> [memory, image_vector]``; the transformer's gives the
        memory alone) and, for the transformer, the sub-model ``"decoder"``
        (``[tokens, memory] -> probabilities``);
        decode with :func:`captioner_step_fn`.

    References:
        Xu et al., "Show, Attend and Tell: Neural Image Caption Generation
        with Visual Attention", ICML 2015; Vinyals et al., "Show and Tell",
        CVPR 2015. DSE 3151, "Encoder Decoder Models: Image Captioning"
        (``s0 = CNN(I)``; image features concatenated to the word embedding).
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            "captioner expects an image input_shape (height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    check_positive_int("num_classes", num_classes)
    for key, value in (
        ("feature_dim", feature_dim),
        ("embedding_dim", embedding_dim),
        ("units", units),
        ("num_layers", num_layers),
        ("num_heads", num_heads),
    ):
        check_positive_int(key, value)
    check_choice("decoder", decoder, DECODERS)
    check_rate("dropout", dropout)
    if decoder == "transformer":
        if attention is False or conditioning is not None:
            raise ValueError(
                "attention and conditioning are options of the LSTM decoder; the "
                "transformer always cross-attends to the image. Received: "
                f"attention={attention!r}, conditioning={conditioning!r}"
            )
        if caption_length is None:
            raise ValueError("The transformer decoder needs caption_length.")
        if feature_dim % num_heads:
            raise ValueError(
                f"feature_dim must be a multiple of num_heads. Received: "
                f"feature_dim={feature_dim}, num_heads={num_heads}"
            )
    attention = True if attention is None else bool(attention)
    conditioning = conditioning or "init"
    check_choice("conditioning", conditioning, CONDITIONINGS)
    if attention_units is not None:
        check_positive_int("attention_units", attention_units)

    if isinstance(encoder, str):
        info = builder_info(encoder)
        if info.family != "cnn":
            raise ValueError(
                f"encoder must be a CNN of the registry. Received: encoder={encoder!r}"
                f" (family {info.family!r})"
            )
        cnn = info.fn(input_shape, 2, **(encoder_options or {}))
    else:
        cnn = encoder
    cnn = feature_extractor(cnn, feature_layer)
    encoder_model = _image_encoder(
        cnn,
        input_shape,
        feature_dim,
        units,
        encoder_trainable,
        vector=decoder == "lstm",
    )

    # === Functional Model ===
    image = keras.Input(input_shape, name="image")
    tokens = keras.Input((caption_length,), dtype="int32", name="tokens")
    if decoder == "transformer":
        memory = encoder_model(image)  # (B, N, F)
        decoder_model = _transformer_decoder(
            caption_length,
            memory.shape[1],
            num_classes,
            feature_dim,
            num_layers=num_layers,
            num_heads=num_heads,
            d_ff=units,
            dropout=dropout,
        )
        probabilities = decoder_model([tokens, memory])
        return keras.Model({"image": image, "tokens": tokens}, probabilities, name=name)

    memory, vector = encoder_model(image)  # (B, N, F), (B, units)
    y = layers.Embedding(num_classes, embedding_dim, name="token_embedding")(tokens)
    if conditioning in ("concat", "both"):
        every_step = ops.zeros_like(y[..., :1]) + ops.expand_dims(vector, 1)
        y = layers.Concatenate(name="word_and_image")([y, every_step])  # (B, T, E+U)
    if dropout:
        y = layers.Dropout(dropout, name="input_dropout")(y)
    if conditioning in ("init", "both"):
        h0 = layers.Dense(units, activation="tanh", name="init_h")(vector)
        c0 = layers.Dense(units, name="init_c")(vector)
    else:
        h0 = c0 = ops.zeros_like(vector)
    lstm = layers.LSTMCell(units, name="decoder_cell")
    if attention:
        cell = BahdanauAttentionCell(
            lstm,
            memory_dim=feature_dim,
            attention_units=attention_units,
            memory_length=memory.shape[1],
        )
        state = [h0, c0, memory, ops.ones_like(memory[..., 0])]
    else:
        cell, state = lstm, [h0, c0]
    states = layers.RNN(cell, return_sequences=True, name="decoder")(
        y, initial_state=state
    )  # (B, T, units)
    if dropout:
        states = layers.Dropout(dropout, name="output_dropout")(states)
    probabilities = layers.Dense(num_classes, activation="softmax", name="predictions")(
        states
    )
    return keras.Model({"image": image, "tokens": tokens}, probabilities, name=name)


def _transformer_decoder(
    length, memory_length, num_classes, d_model, *, num_layers, num_heads, d_ff, dropout
):
    """``[tokens (B, T), memory (B, N, d)] -> (B, T, V)``."""
    tokens = keras.Input((length,), dtype="int32", name="tokens")
    memory = keras.Input((memory_length, d_model), name="memory")
    x = TokenAndPositionEmbedding(
        num_classes,
        length,
        d_model,
        position_encoding="sinusoidal",
        scale_embeddings=True,
        name="token_embedding",
    )(tokens)  # (B, T, d)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    mask = ops.not_equal(tokens, PAD_ID)
    for i in range(1, num_layers + 1):
        x = TransformerDecoderBlock(
            num_heads=num_heads, d_ff=d_ff, dropout=dropout, name=f"decoder_{i}"
        )(x, memory, padding_mask=mask)
    probabilities = layers.Dense(num_classes, activation="softmax", name="predictions")(
        x
    )
    return keras.Model([tokens, memory], probabilities, name="decoder")


# === Step function for dltoolkit.decoding ===


def captioner_step_fn(model: keras.Model):
    """Inference pair of a :func:`build_captioner` model, for decoding.

    Returns:
        ``(encode, next_logits)``. ``encode(images)`` runs the encoder on
        float images ``(B, H, W, C)`` and returns the initial decoding state
        (a dict of tensors with a leading batch axis).
        ``next_logits(ids, index, state)`` predicts the token at ``index``
        from ``ids[:, :index]`` (``ids[:, 0]`` is the start token) and returns
        ``(logits (B, V), state)``: the ``dltoolkit.decoding`` step contract.
    """
    encoder = model.get_layer("encoder")
    try:
        decoder = model.get_layer("decoder")
    except ValueError:
        decoder = None
    if isinstance(decoder, keras.Model):
        return _transformer_step_fn(encoder, decoder)
    embedding = model.get_layer("token_embedding")
    cell = decoder.cell
    attention = isinstance(cell, BahdanauAttentionCell)
    head = model.get_layer("predictions")
    layer_names = {layer.name for layer in model.layers}
    concat = "word_and_image" in layer_names
    init = ("init_h" in layer_names) and ("init_c" in layer_names)

    def encode(images):
        memory, vector = encoder(tf.convert_to_tensor(images), training=False)
        if init:
            h = model.get_layer("init_h")(vector)
            c = model.get_layer("init_c")(vector)
        else:
            h = c = tf.zeros_like(vector)
        state = {"h": h, "c": c, "vector": vector}
        if attention:
            state["memory"] = memory
            state["mask"] = tf.ones_like(memory[..., 0])
        return state

    def next_logits(ids, index, state):
        y = embedding_lookup(embedding, ids[:, index - 1])  # (B, E)
        if concat:
            y = tf.concat([y, state["vector"]], axis=-1)
        cell_state = [state["h"], state["c"]]
        if attention:
            cell_state += [state["memory"], state["mask"]]
        output, new = cell(y, cell_state, training=False)
        state = {**state, "h": new[0], "c": new[1]}
        return dense_logits(head, output), state

    return encode, next_logits


def _transformer_step_fn(encoder, decoder):
    """The transformer decoder reruns on the buffer and reads position index - 1."""
    length = decoder.inputs[0].shape[1]
    to_logits = logits_reader(decoder.get_layer("predictions"))

    def encode_image(images):
        memory = encoder(tf.convert_to_tensor(images), training=False)
        return {"memory": memory}

    def transformer_logits(ids, index, state):
        tokens = fit_length(ids, length)  # (B', T)
        probs = decoder([tokens, state["memory"]], training=False)
        return to_logits(tf.gather(probs, index - 1, axis=1)), state

    return encode_image, transformer_logits


def attention_weights(model: keras.Model, images, token_ids):
    """Attention of each input token over the image positions.

    LSTM: runs the decoder cell step by step on ``token_ids`` (``[start]
    words``) and records ``alpha_t`` before each step. Transformer: the last
    decoder block's cross-attention, averaged over heads.

    Returns:
        float32 ``(B, T, h*w)``, or None when the model has no visual
        attention (an LSTM without attention).
    """
    decoder = model.get_layer("decoder")
    if isinstance(decoder, keras.Model):
        return _cross_attention(model, decoder, images, token_ids)
    if not isinstance(decoder.cell, BahdanauAttentionCell):
        return None
    encode, _ = captioner_step_fn(model)
    state = encode(images)
    cell = decoder.cell
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    embedding = model.get_layer("token_embedding")
    concat = "word_and_image" in {layer.name for layer in model.layers}
    weights = []
    h, c = state["h"], state["c"]
    for t in range(token_ids.shape[1]):
        _, alpha = cell.attention(h, state["memory"], state["mask"])  # (B, N)
        weights.append(alpha)
        y = embedding_lookup(embedding, token_ids[:, t])
        if concat:
            y = tf.concat([y, state["vector"]], axis=-1)
        _, new = cell(y, [h, c, state["memory"], state["mask"]], training=False)
        h, c = new[0], new[1]
    return tf.stack(weights, axis=1).numpy()


def _cross_attention(model, decoder, images, token_ids):
    memory = model.get_layer("encoder")(tf.convert_to_tensor(images), training=False)
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    tokens = fit_length(token_ids, decoder.inputs[0].shape[1])  # (B, T_model)
    x = decoder.get_layer("token_embedding")(tokens)
    mask = tf.not_equal(tokens, PAD_ID)
    scores = None
    for block in [
        layer for layer in decoder.layers if layer.name.startswith("decoder_")
    ]:
        x, scores = block(
            x,
            memory,
            padding_mask=mask,
            return_attention_scores=True,
            training=False,
        )
    weights = tf.reduce_mean(scores["cross_attention"], axis=1)  # (B, T_model, N)
    return weights[:, : token_ids.shape[1]].numpy()
