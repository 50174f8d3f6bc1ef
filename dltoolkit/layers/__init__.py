"""Custom Keras layers, one public class per module."""

from dltoolkit.layers.attention_pooling import AttentionPooling
from dltoolkit.layers.bahdanau_attention import BahdanauAttention
from dltoolkit.layers.bahdanau_attention_cell import BahdanauAttentionCell
from dltoolkit.layers.rrelu import RReLU
from dltoolkit.layers.tree_composition import TreeComposition

__all__ = [
    "AttentionPooling",
    "BahdanauAttention",
    "BahdanauAttentionCell",
    "RReLU",
    "TreeComposition",
]
