"""Every app runs as ``python -m apps.NAME`` and reports bad input in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dltoolkit.apps import APPS, get_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", APPS)
def test_app_runs_as_module_and_errors_in_one_line(name):
    done = subprocess.run(
        [sys.executable, "-m", f"apps.{name}", "train", "--profile", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("TF_")},
        check=False,
    )
    assert done.returncode == 2
    # Exactly one line: TensorFlow's start-up logging is kept off stderr.
    profiles = ", ".join(get_app(name).profiles)
    assert done.stderr.strip().splitlines() == [
        f"error: Unknown profile 'nope'. Valid profiles: {profiles}."
    ]
