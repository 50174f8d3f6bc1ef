"""The examples in the metrics' docstrings hold."""

import doctest
import importlib

import pytest

MODULES = ["bleu", "chrf", "lepor", "meteor", "nist", "tokenizers", "wer"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"dltoolkit.metrics.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
