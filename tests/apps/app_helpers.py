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
