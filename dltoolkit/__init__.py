"""dltoolkit: classic deep-learning architectures and methods as Keras 3 software."""

__version__ = "0.1.0"
