"""The `impl` fixture: each HMM algorithm test runs on NumPy and TensorFlow."""

import pytest
from hmm_helpers import as_numpy

from dltoolkit.hmm import numpy_impl


class Impl:
    """Calls one implementation's functions and returns NumPy values."""

    def __init__(self, name, module):
        self.name, self.module = name, module

    def __getattr__(self, fn):
        return lambda *a, **k: as_numpy(getattr(self.module, fn)(*a, **k))

    def __repr__(self):
        return self.name


@pytest.fixture(params=["numpy", "tf"])
def impl(request):
    if request.param == "numpy":
        return Impl("numpy", numpy_impl)
    from dltoolkit.hmm import tf_impl

    return Impl("tf", tf_impl)
