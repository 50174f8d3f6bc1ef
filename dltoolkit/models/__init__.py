"""Builders: one Keras function per architecture, all in the registry.

Every builder module is imported here so that nothing goes missing from the
registry.
"""

from dltoolkit.models import (  # noqa: F401
    alexnet,
    autoencoders,
    bert,
    captioner,
    dcgan,
    googlenet,
    gpt,
    han,
    lenet,
    linear,
    mlp,
    rbm,
    recursive,
    resnet,
    rnn,
    seq2seq,
    text_cnn,
    transformer,
    vae,
    vgg,
)
from dltoolkit.models.registry import (
    BuilderInfo,
    builder_info,
    get_builder,
    list_builders,
    register,
)

__all__ = ["BuilderInfo", "builder_info", "get_builder", "list_builders", "register"]
