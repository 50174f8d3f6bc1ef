"""python -m apps.classify train --profile quick"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from apps.classify.app import APP  # noqa: E402
from dltoolkit.training.app import main  # noqa: E402

sys.exit(main(APP))
