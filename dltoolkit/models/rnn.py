"""Recurrent networks: SimpleRNN, LSTM and GRU; deep, bidirectional, stateful.

Also the character-level language model (char-RNN), its step function for
``dltoolkit.decoding`` and :func:`generate_text`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from dltoolkit.decoding import sample
from dltoolkit.models.options import classifier
from dltoolkit.models.registry import register

CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
MERGE_MODES = ("concat", "sum", "mul", "ave")
HEADS = ("many_to_one", "many_to_many", "one_to_many")


def check_choice(argument: str, value, valid) -> None:
    """Raises ValueError naming ``argument`` if ``value`` is not in ``valid``."""
    if value not in valid:
        names = ", ".join(str(v) for v in valid)
        raise ValueError(f"Unknown {argument} {value!r}. Valid: {names}.")


def check_positive_int(argument: str, value) -> None:
    """Raises ValueError naming ``argument`` unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{argument} must be a positive integer. Received: {argument}={value!r}"
        )


def check_rate(argument: str, value) -> None:
    """Raises ValueError naming ``argument`` unless ``0 <= value < 1``."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{argument} must be in [0, 1). Received: {argument}={value}")


# === Builder ===


@register("rnn", family="rnn")
def build_rnn(
    input_shape,
    num_classes,
    *,
    cell="lstm",
    units=64,
    num_layers=1,
    bidirectional=False,
    merge_mode="concat",
    stateful=False,
    batch_size=None,
    head="many_to_one",
    output_length=None,
    vocab_size=None,
    embedding_dim=32,
    mask_zero=True,
    dropout=0.0,
    recurrent_dropout=0.0,
    classifier_activation="softmax",
    name="rnn",
):
    """Builds a (deep, bidirectional, stateful) recurrent network.

    Inputs, by ``head`` and ``vocab_size``:

    - ``many_to_one`` / ``many_to_many`` with ``vocab_size``: token ids,
      ``input_shape=(timesteps,)``; an embedding feeds the recurrent layers.
    - ``many_to_one`` / ``many_to_many`` without: float features,
      ``input_shape=(timesteps, features)``.
    - ``one_to_many``: one vector, ``input_shape=(features,)`` (or ``(1,)``,
      one token id, with ``vocab_size``), repeated for ``output_length`` steps.

    ``timesteps`` may be None (any length). Outputs are ``num_classes``
    probabilities: ``(batch, num_classes)`` for ``many_to_one``,
    ``(batch, timesteps, num_classes)`` for ``many_to_many`` and
    ``(batch, output_length, num_classes)`` for ``one_to_many``.

    Args:
        input_shape: shape of one example (see above).
        num_classes: output units (per step for sequence outputs).
        cell: ``"simple_rnn"``, ``"lstm"`` or ``"gru"``.
        units: state size of each recurrent layer.
        num_layers: stacked recurrent layers (a deep RNN).
        bidirectional: run each layer forwards and backwards.
        merge_mode: how the two directions combine: ``"concat"``, ``"sum"``,
            ``"mul"`` or ``"ave"``.
        stateful: carry each sample's final state into the next batch (the
            batches must hold consecutive windows); needs ``batch_size``.
            Reset with :func:`reset_rnn_states`.
        batch_size: fixed batch size of the input (required if stateful).
        head: ``"many_to_one"``, ``"many_to_many"`` or ``"one_to_many"``.
        output_length: output steps of ``one_to_many`` (only there).
        vocab_size: token vocabulary size; None for float features.
        embedding_dim: embedding size of token inputs.
        mask_zero: treat token id 0 as padding (masked time steps).
        dropout: dropout rate on each recurrent layer's inputs.
        recurrent_dropout: dropout rate on the recurrent state.
        classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``"linear"``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    References:
        DSE 3151, "Recurrent Neural Networks", "LSTM and GRU", "Different
        RNNs" (one to many, many to one, many to many), "Deep RNNs",
        "Bi-directional RNNs", "Stateful RNN". Hochreiter and Schmidhuber,
        "Long Short-Term Memory", 1997; Cho et al., "Learning Phrase
        Representations using RNN Encoder-Decoder", 2014.
    """
    check_choice("cell", cell, CELLS)
    check_choice("head", head, HEADS)
    check_choice("merge_mode", merge_mode, MERGE_MODES)
    check_positive_int("units", units)
    check_positive_int("num_layers", num_layers)
    check_positive_int("embedding_dim", embedding_dim)
    check_rate("dropout", dropout)
    check_rate("recurrent_dropout", recurrent_dropout)
    if vocab_size is not None:
        check_positive_int("vocab_size", vocab_size)
    if head == "one_to_many":
        check_positive_int("output_length", output_length)
    elif output_length is not None:
        raise ValueError(
            "output_length applies to head='one_to_many' only. "
            f"Received: output_length={output_length}, head={head!r}"
        )
    if stateful and batch_size is None:
        raise ValueError(
            "stateful=True needs a fixed batch_size. Received: batch_size=None"
        )
    if stateful and bidirectional:
        raise ValueError(
            "A stateful RNN cannot be bidirectional: the backward direction "
            "has no state to carry. Received: stateful=True, bidirectional=True"
        )
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    input_shape = tuple(input_shape)
    _check_input_shape(input_shape, head, vocab_size)

    # === Inputs ===
    dtype = "float32" if vocab_size is None else "int32"
    inputs = keras.Input(
        batch_shape=(batch_size, *input_shape), dtype=dtype, name="inputs"
    )
    x = inputs
    if vocab_size is not None:
        x = layers.Embedding(
            vocab_size,
            embedding_dim,
            mask_zero=mask_zero and head != "one_to_many",
            name="embedding",
        )(x)  # (B, T, E)
    if head == "one_to_many":
        if vocab_size is not None:
            x = layers.Reshape((embedding_dim,), name="flatten")(x)  # (B, E)
        x = layers.RepeatVector(output_length, name="repeat")(x)  # (B, L, F)

    # === Recurrent stack ===
    for i in range(1, num_layers + 1):
        recurrent = CELLS[cell](
            units,
            return_sequences=i < num_layers or head != "many_to_one",
            stateful=stateful,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"rnn_{i}",
        )
        if bidirectional:
            recurrent = layers.Bidirectional(
                recurrent, merge_mode=merge_mode, name=f"bidirectional_{i}"
            )
        x = recurrent(x)  # (B, T, units) or (B, units); 2 * units if concat

    outputs = classifier(x, num_classes, classifier_activation=classifier_activation)
    return keras.Model(inputs, outputs, name=name)


def _check_input_shape(input_shape, head, vocab_size) -> None:
    if head == "one_to_many":
        expected = "(1,) for a token id" if vocab_size else "(features,)"
        ok = input_shape == (1,) if vocab_size else len(input_shape) == 1
    elif vocab_size:
        expected, ok = "(timesteps,) of token ids", len(input_shape) == 1
    else:
        expected, ok = "(timesteps, features)", len(input_shape) == 2
    if not ok:
        raise ValueError(
            f"head={head!r} with vocab_size={vocab_size} expects input_shape "
            f"{expected}. Received: input_shape={input_shape}"
        )


def reset_rnn_states(model: keras.Model) -> None:
    """Zeroes the carried state of every stateful recurrent layer in ``model``."""
    for layer in model.layers:
        if isinstance(layer, layers.RNN) and layer.stateful:
            layer.reset_state()


# === Character-level language model ===


@register("char_rnn", family="rnn")
def build_char_rnn(
    input_shape,
    num_classes,
    *,
    cell="lstm",
    units=128,
    num_layers=1,
    embedding_dim=32,
    dropout=0.0,
    stateful=False,
    batch_size=None,
    name="char_rnn",
):
    """Builds a character-level language model: Embedding -> RNN -> softmax.

    At every position the model predicts the next character, so it trains on
    windows ``x = text[i:i + T]``, ``y = text[i + 1:i + T + 1]``.

    Args:
        input_shape: ``(timesteps,)`` of character ids (``timesteps`` may be
            None).
        num_classes: the vocabulary size: ids of the inputs and the classes
            of the outputs, ``(batch, timesteps, num_classes)``.
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        units, num_layers, dropout, stateful, batch_size: as in
            :func:`build_rnn`.
        embedding_dim: character embedding size.
        name: model name.

    Returns:
        An uncompiled ``keras.Model``; generate with :func:`generate_text`.

    References:
        Karpathy, "The Unreasonable Effectiveness of Recurrent Neural
        Networks", 2015. DSE 3151, "Generating Shakespearan Text using a
        Character RNN".
    """
    if len(tuple(input_shape)) != 1:
        raise ValueError(
            "char_rnn expects input_shape (timesteps,) of character ids. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    return build_rnn(
        input_shape,
        num_classes,
        cell=cell,
        units=units,
        num_layers=num_layers,
        stateful=stateful,
        batch_size=batch_size,
        head="many_to_many",
        vocab_size=num_classes,
        embedding_dim=embedding_dim,
        mask_zero=False,
        dropout=dropout,
        name=name,
    )


# === Step function and generation ===


def embedding_lookup(embedding: layers.Embedding, ids):
    """The embedding rows of ``ids``, without a Keras mask attached."""
    return ops.take(embedding.embeddings, ops.cast(ids, "int32"), axis=0)


def dense_logits(dense: layers.Dense, x):
    """The pre-activation output ``x W + b`` of a Dense layer."""
    logits = ops.matmul(x, dense.kernel)
    if dense.use_bias:
        logits = logits + dense.bias
    return ops.cast(logits, "float32")


def rnn_step_fn(model: keras.Model):
    """Step functions of a token ``many_to_many`` model, e.g. a char-RNN.

    Runs the model's cells one token at a time, so generation costs one step
    per token instead of a pass over the whole prefix.

    Args:
        model: a unidirectional model from :func:`build_rnn` with
            ``vocab_size`` and ``head="many_to_many"``, or from
            :func:`build_char_rnn`.

    Returns:
        ``(prime, next_logits)``. ``prime(prompt_ids)`` takes int ids
        ``(batch, n)`` and returns the state after reading all but the last
        prompt token. ``next_logits(ids, index, state)`` reads ``ids[:, index
        - 1]`` and returns ``(logits (batch, vocab), state)``: the
        ``dltoolkit.decoding`` step interface.
    """
    names = {layer.name for layer in model.layers}
    if (
        "embedding" not in names
        or "repeat" in names
        or any(n.startswith("bidirectional") for n in names)
        or len(model.output.shape) != 3
    ):
        raise ValueError(
            "rnn_step_fn needs a unidirectional many_to_many token model "
            f"(vocab_size set). Received: model={model.name!r}"
        )
    embedding = model.get_layer("embedding")
    cells = [
        model.get_layer(f"rnn_{i}").cell
        for i in range(1, 1 + sum(n.startswith("rnn_") for n in names))
    ]
    head = model.get_layer("predictions")

    def next_logits(ids, index, state):
        x = embedding_lookup(embedding, ids[:, index - 1])  # (B, E)
        new_state = []
        for cell, cell_state in zip(cells, state):
            x, cell_state = cell(x, list(cell_state))  # (B, units)
            new_state.append(list(cell_state))
        return dense_logits(head, x), new_state

    def prime(prompt_ids):
        prompt_ids = ops.convert_to_tensor(prompt_ids, "int32")
        batch = ops.shape(prompt_ids)[0]
        state = [list(cell.get_initial_state(batch)) for cell in cells]
        for index in range(1, prompt_ids.shape[1]):
            _, state = next_logits(prompt_ids, index, state)
        return state

    return prime, next_logits


def generate_text(
    model: keras.Model,
    prompt: str,
    *,
    vocabulary,
    length: int,
    temperature: float = 1.0,
    seed=None,
) -> str:
    """Continues ``prompt`` by ``length`` characters sampled from ``model``.

    Each character is drawn from ``softmax(logits / temperature)`` by
    ``dltoolkit.decoding.sample``: a small temperature approaches the argmax
    continuation (0 takes it), a large one uniform noise.

    Args:
        model: a char-RNN (:func:`build_char_rnn`).
        prompt: the text to continue; every character must be in
            ``vocabulary``.
        vocabulary: the characters in id order (a string or a sequence).
        length: number of characters to generate.
        temperature: sampling temperature, >= 0.
        seed: seed of the sampler (an int gives repeatable output).

    Returns:
        ``prompt`` followed by the generated characters.
    """
    vocabulary = list(vocabulary)
    check_positive_int("length", length)
    if not temperature >= 0:
        raise ValueError(
            f"temperature must be >= 0. Received: temperature={temperature}"
        )
    if not prompt:
        raise ValueError("prompt must hold at least one character. Received: ''")
    unknown = sorted(set(prompt) - set(vocabulary))
    if unknown:
        raise ValueError(f"prompt has characters outside the vocabulary: {unknown}")
    index = {ch: i for i, ch in enumerate(vocabulary)}
    prompt_ids = np.array([[index[ch] for ch in prompt]], dtype="int32")
    prime, next_logits = rnn_step_fn(model)
    ids = sample(
        next_logits,
        prompt_ids,
        max_length=len(prompt) + length,
        temperature=temperature,
        seed=seed,
        state=prime(prompt_ids),
    )
    ids = ops.convert_to_numpy(ids)
    return "".join(vocabulary[i] for i in ids[0])
