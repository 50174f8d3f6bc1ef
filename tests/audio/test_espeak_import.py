"""The eSpeak worker process starts without TensorFlow (it forks per request)."""

import subprocess
import sys


def test_espeak_worker_module_does_not_import_tensorflow():
    code = (
        "import sys, dltoolkit.audio.espeak; "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow imported'"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
