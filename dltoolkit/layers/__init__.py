"""Custom Keras layers, one public class per module."""

from dltoolkit.layers.rrelu import RReLU

__all__ = ["RReLU"]
