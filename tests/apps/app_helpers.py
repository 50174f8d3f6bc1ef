"""Shared checks of the app tests."""

from dltoolkit.training.app import main


def train_error(app, run_dir, capsys, overrides) -> str:
    """Runs ``train --profile smoke --set ...``; asserts exit 2 and a one-line error.

    Returns the error line, for the caller to check its text.
    """
    argv = ["train", "--profile", "smoke", "--run-dir", str(run_dir)]
    for item in overrides:
        argv += ["--set", item]
    assert main(app, argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def run_fresh_process(script: str, cwd) -> str:
    """Runs ``script`` in a new Python process in ``cwd``; asserts it exits 0
    and returns its standard output."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
