"""Custom Keras layers, one public class per module."""

from dltoolkit.layers.bahdanau_attention import BahdanauAttention
from dltoolkit.layers.bahdanau_attention_cell import BahdanauAttentionCell
from dltoolkit.layers.rrelu import RReLU

__all__ = ["BahdanauAttention", "BahdanauAttentionCell", "RReLU"]
