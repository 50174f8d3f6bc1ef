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


@pytest.fixture(scope="module")
def fresh(wheel, tmp_path_factory):
    """A fresh venv with only the wheel installed (its dependencies read from
    this environment's site-packages, no network), and a directory outside the
    clone to run in."""
    root = tmp_path_factory.mktemp("fresh")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # A .pth line adds this environment's site-packages after the venv's own
    # (the directory only: its editable-install hooks are not run).
    here = _site_packages(Path(sys.executable))
    (_site_packages(python) / "deps.pth").write_text(f"{here}\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True,
    )  # fmt: skip
    work = root / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args, program="dltk"):
        done = subprocess.run(
            [str(env_dir / "bin" / program), *args],
            cwd=work, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        return done.stdout

    return python, work, run


@pytest.mark.slow
def test_the_fresh_venv_holds_dltoolkit_only(fresh):
    python, work, run = fresh
    installed = {p.name for p in _site_packages(python).iterdir()}
    assert "apps" not in installed and "tuning" not in installed
    origin = run("-c", "import dltoolkit.apps; print(dltoolkit.apps.__file__)",
                 program="python")  # fmt: skip
    assert str(ROOT) not in origin and "site-packages" in origin
    assert run("--version").startswith("dltk ")
    out = run("classify", "config", "--profile", "smoke")
    assert "data:" in out and "learning_rate" in out


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_every_app_trains_exports_and_tunes_through_dltk(fresh, app):
    python, work, run = fresh
    out = run("train", app, "--profile", "smoke", "--run-dir", f"{app}-run")
    assert out.splitlines()[0] == f"run dir: {app}-run"
    assert f"report: {app}-run/report.md" in out
    assert f"export: {app}-run/export" in out
    metrics = json.loads((work / f"{app}-run" / "metrics.json").read_text())
    assert metrics["profile"] == "smoke"
    # The export loads with TensorFlow alone (no dltoolkit import).
    signatures = run(
        "-c",
        "import sys, tensorflow as tf\n"
        "assert 'dltoolkit' not in sys.modules\n"
        f"m = tf.saved_model.load('{app}-run/export')\n"
        "print(sorted(m.signatures))",
        program="python",
    )
    assert "serving_default" in signatures
    run("tune", app, "--max-trials", "1", "--profile", "smoke",
        "--dir", f"{app}-search")  # fmt: skip
    best = work / f"{app}-search" / "best"
    assert (best / "export" / "saved_model.pb").is_file()


@pytest.mark.slow
def test_a_classify_export_labels_an_image_without_dltoolkit(fresh):
    python, work, run = fresh
    if not (work / "classify-run" / "export").is_dir():
        run("train", "classify", "--profile", "smoke", "--run-dir", "classify-run")
    label = run(
        "-c",
        "import sys, numpy as np, tensorflow as tf\n"
        "from sklearn.datasets import load_digits\n"
        "m = tf.saved_model.load('classify-run/export')\n"
        "img = (load_digits().images[0] * 16).astype('uint8')[..., None]\n"
        "png = tf.io.encode_png(img).numpy()\n"
        "out = m.signatures['serving_default'](images=tf.constant([png]))\n"
        "assert 'dltoolkit' not in sys.modules\n"
        "print(out['label'].numpy()[0].decode())",
        program="python",
    ).strip()
    assert label in [str(d) for d in range(10)]
