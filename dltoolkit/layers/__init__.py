"""Custom Keras layers, one public class per module."""

from dltoolkit.layers.attention_pooling import AttentionPooling
from dltoolkit.layers.bahdanau_attention import BahdanauAttention
from dltoolkit.layers.bahdanau_attention_cell import BahdanauAttentionCell
from dltoolkit.layers.contractive_dense import ContractiveDense
from dltoolkit.layers.ensemble_average import EnsembleAverage
from dltoolkit.layers.fine_tune_gate import FineTuneGate
from dltoolkit.layers.gaussian_sampling import GaussianSampling
from dltoolkit.layers.image_preprocessing import ImagePreprocessing
from dltoolkit.layers.masking_noise import MaskingNoise
from dltoolkit.layers.positional_encoding import PositionalEncoding
from dltoolkit.layers.rrelu import RReLU
from dltoolkit.layers.scaled_dense import ScaledDense
from dltoolkit.layers.sparsity_penalty import SparsityPenalty
from dltoolkit.layers.tied_dense import TiedDense
from dltoolkit.layers.token_and_position_embedding import TokenAndPositionEmbedding
from dltoolkit.layers.transformer_decoder_block import TransformerDecoderBlock
from dltoolkit.layers.transformer_encoder_block import TransformerEncoderBlock
from dltoolkit.layers.tree_composition import TreeComposition

__all__ = [
    "AttentionPooling",
    "BahdanauAttention",
    "BahdanauAttentionCell",
    "ContractiveDense",
    "EnsembleAverage",
    "FineTuneGate",
    "GaussianSampling",
    "ImagePreprocessing",
    "MaskingNoise",
    "PositionalEncoding",
    "RReLU",
    "ScaledDense",
    "SparsityPenalty",
    "TiedDense",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "TreeComposition",
]
