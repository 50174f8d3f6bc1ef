"""python -m apps.asr train --profile quick"""

import sys

from dltoolkit._quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from dltoolkit.apps.asr.app import APP  # noqa: E402
from dltoolkit.training.app import main  # noqa: E402

sys.exit(main(APP))
