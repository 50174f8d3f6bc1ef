"""An RNN cell that attends over encoder outputs before each step."""

from __future__ import annotations

import keras
from keras import ops

from dltoolkit.layers.bahdanau_attention import BahdanauAttention


@keras.saving.register_keras_serializable(package="dltoolkit")
class BahdanauAttentionCell(keras.layers.Layer):
    """Wraps an RNN cell so that its input at each step carries a context.

    One step, with ``s_{t-1}`` the wrapped cell's output state (``h`` of an
    LSTM) and ``h_j`` the encoder outputs::

        c_t, alpha_t = BahdanauAttention(s_{t-1}, h)
        s_t = cell(s_{t-1}, [x_t, c_t])

    ``keras.layers.RNN`` runs it like any cell. The encoder outputs and their
    mask travel in the state (they pass through each step unchanged), so the
    RNN's ``initial_state`` is ``[*cell_states, memory, memory_mask]``::

        rnn = keras.layers.RNN(BahdanauAttentionCell(keras.layers.GRUCell(8),
                                                     memory_dim=8),
                               return_sequences=True)
        outputs = rnn(target_embeddings, initial_state=[s0, memory, mask])

    Because every state has a leading batch axis, beam search can reorder and
    tile them like any other decoding state.

    Args:
        cell: the wrapped cell, e.g. ``keras.layers.GRUCell(units)`` or
            ``keras.layers.LSTMCell(units)`` (or its serialized config).
        memory_dim: the size of one encoder output ``h_j``.
        attention_units: size of the attention space; defaults to the cell's
            units.
        return_attention: if true, each step outputs ``[s_t, alpha_t]``
            concatenated (``units + memory_length`` values) instead of ``s_t``.
        memory_length: the number of source positions; needed (only) with
            ``return_attention``.

    References:
        Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly
        Learning to Align and Translate", ICLR 2015. DSE 3151, "Encoder
        Decoder with Attention Mechanism", ``s_t = RNN(s_{t-1}, [e(y_{t-1}),
        c_t])``.
    """

    def __init__(
        self,
        cell,
        memory_dim,
        attention_units=None,
        return_attention=False,
        memory_length=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        if not hasattr(cell, "state_size") or not hasattr(cell, "units"):
            raise ValueError(
                "cell must be an RNN cell with `units` and `state_size`, such as "
                f"keras.layers.GRUCell. Received: cell={cell!r}"
            )
        if return_attention and not (
            isinstance(memory_length, int) and memory_length > 0
        ):
            raise ValueError(
                "return_attention needs a fixed memory_length. "
                f"Received: memory_length={memory_length!r}"
            )
        self.cell = cell
        self.memory_dim = memory_dim
        self.attention_units = attention_units
        self.return_attention = return_attention
        self.memory_length = memory_length
        self.attention = BahdanauAttention(
            attention_units or cell.units, name="attention"
        )
        sizes = cell.state_size
        self._num_cell_states = 1 if isinstance(sizes, int) else len(sizes)
        sizes = [sizes] if isinstance(sizes, int) else list(sizes)
        self.state_size = [
            *sizes,
            (memory_length, memory_dim),  # memory: the encoder outputs
            (memory_length,),  # memory_mask
        ]
        self.output_size = cell.units + (memory_length if return_attention else 0)

    def build(self, input_shape):
        batch = input_shape[0]
        if not self.cell.built:  # a deserialized cell comes built
            self.cell.build((batch, input_shape[-1] + self.memory_dim))
        self.attention.build(
            (batch, self.cell.units), (batch, self.memory_length, self.memory_dim)
        )

    def call(self, inputs, states, training=False):
        n = self._num_cell_states
        cell_states = list(states[:n])
        memory, memory_mask = states[n], states[n + 1]
        # Attend with the previous output state s_{t-1}.
        context, weights = self.attention(
            cell_states[0], memory, memory_mask
        )  # (B, Dm), (B, S)
        step_input = ops.concatenate([inputs, context], axis=-1)  # (B, E + Dm)
        output, new_states = self.cell(
            step_input, cell_states if n > 1 else cell_states[0], training=training
        )
        new_states = (
            list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        )
        if self.return_attention:
            output = ops.concatenate([output, weights], axis=-1)
        return output, [*new_states, memory, memory_mask]

    def get_initial_state(self, batch_size=None):
        raise ValueError(
            "BahdanauAttentionCell needs an explicit initial_state: "
            "[*cell_states, memory, memory_mask]."
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": keras.saving.serialize_keras_object(self.cell),
                "memory_dim": self.memory_dim,
                "attention_units": self.attention_units,
                "return_attention": self.return_attention,
                "memory_length": self.memory_length,
            }
        )
        return config
