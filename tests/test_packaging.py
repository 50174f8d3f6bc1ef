"""The wheel: what it carries, and (slow) the `dltk` path from a fresh venv."""

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from dltoolkit.apps import APPS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the build uses this environment's setuptools, so it
    # needs no network.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        cwd=out,
    )  # fmt: skip
    (path,) = out.glob("dltoolkit-*.whl")
    return path


def test_the_wheel_carries_the_apps_tuning_demo_and_console_script(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for app in APPS:
        for module in ("__init__.py", "__main__.py", "app.py"):
            assert f"dltoolkit/apps/{app}/{module}" in names, (app, module)
    for module in ("apps/__init__.py", "apps/demo.py", "tuning/__main__.py",
                   "tuning/runner.py", "tuning/spaces.py", "tuning/distributed.py",
                   "tuning/report.py", "cli.py"):  # fmt: skip
        assert f"dltoolkit/{module}" in names, module
    tops = {n.split("/")[0] for n in names}
    assert tops == {"dltoolkit", f"{wheel.name.rsplit('-', 3)[0]}.dist-info"}
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(info).decode()
    assert "dltk = dltoolkit.cli:main" in entry_points
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["dltoolkit"]


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


@pytest.mark.slow
def test_dltk_from_a_fresh_venv_outside_the_clone(wheel, tmp_path):
    """Only the wheel installed (its dependencies read from this environment's
    site-packages, no network); every command run from outside the clone."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The dependencies: this environment's site-packages, after the fresh
    # venv's own (a .pth line adds the directory, not its editable hooks).
    here = _site_packages(Path(sys.executable))
    (_site_packages(python) / "deps.pth").write_text(f"{here}\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True,
    )  # fmt: skip
    installed = {p.name for p in _site_packages(python).iterdir()}
    assert "apps" not in installed and "tuning" not in installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    dltk = str(env_dir / "bin" / "dltk")

    def run(*args):
        done = subprocess.run(
            [dltk, *args], cwd=work, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    origin = subprocess.run(
        [str(python), "-c", "import dltoolkit.apps; print(dltoolkit.apps.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert str(ROOT) not in origin and "site-packages" in origin
    out = run("--version")
    assert out.startswith("dltk ")
    out = run("classify", "config", "--profile", "smoke")
    assert "data:" in out and "learning_rate" in out
    out = run("train", "classify", "--profile", "smoke", "--run-dir", "run")
    assert out.splitlines()[0] == "run dir: run"
    assert "report: run/report.md" in out and "export: run/export" in out
    metrics = json.loads((work / "run" / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.1
    out = run("tune", "classify", "--max-trials", "1", "--profile", "smoke",
              "--dir", "search")  # fmt: skip
    assert (work / "search" / "best" / "export" / "saved_model.pb").is_file()
    # The export loads with TensorFlow alone and labels an image.
    check = (
        "import sys, tensorflow as tf\n"
        "m = tf.saved_model.load('run/export')\n"
        "from sklearn.datasets import load_digits\n"
        "import numpy as np\n"
        "img = (load_digits().images[0] * 16).astype('uint8')[..., None]\n"
        "png = tf.io.encode_png(img).numpy()\n"
        "out = m.signatures['serving_default'](images=tf.constant([png]))\n"
        "print(out['label'].numpy()[0].decode())\n"
    )
    label = subprocess.run(
        [str(python), "-c", check], cwd=work, env=env, capture_output=True,
        text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert label in [str(d) for d in range(10)]
