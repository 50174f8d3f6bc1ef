"""Offline speech synthesis with eSpeak NG through ctypes.

The ``espeakng-loader`` wheel ships ``libespeak-ng`` and its voice data; this
module drives the C API in synchronous mode (``AUDIO_OUTPUT_SYNCHRONOUS``), so
samples arrive through a callback on the calling thread: int16 at 22,050 Hz.

eSpeak NG keeps state across calls (pitch flutter, random noise), so the same
request gives slightly different samples depending on what was spoken before.
:func:`synthesize_many` makes every request start from the same state: a
worker process (no TensorFlow, one thread) initializes the library once and
forks a child per request, which seeds eSpeak's random generators and speaks
(POSIX only: the worker needs ``os.fork``).

References:
    eSpeak NG, ``speak_lib.h``: https://github.com/espeak-ng/espeak-ng
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import struct
import subprocess
import sys
import threading

import numpy as np

from dltoolkit.errors import DataError

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class Synthesizer:
    """One eSpeak NG instance (the library keeps global state: use :func:`get`).

    Attributes:
        sample_rate: the rate of the samples :meth:`synthesize` returns.
        version: the eSpeak NG version string.
    """

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:  # pragma: no cover - a declared dependency
            raise DataError(
                "Speech synthesis needs the espeakng-loader package: "
                "pip install 'espeakng-loader>=0.2.4,<0.3'"
            ) from None
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0
        )
        if self.sample_rate <= 0:
            raise DataError("eSpeak NG failed to initialize")
        self.version = lib.espeak_Info(None).decode()
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept alive with self
        lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    def _collect(self, wav, n, events):
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def synthesize(
        self,
        text: str,
        *,
        voice: str = "en",
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        word_gap: int = 0,
    ) -> np.ndarray:
        """Speaks ``text``; returns int16 samples at :attr:`sample_rate`.

        Args:
            text: what to say.
            voice: a voice name, optionally with a variant (``"en-us+f2"``).
            rate: words per minute (80-450).
            pitch: base pitch, 0-100.
            pitch_range: pitch range, 0-100.
            word_gap: pause between words, in units of 10 ms.
        """
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise DataError(f"eSpeak NG has no voice {voice!r}")
            for param, value in (
                (_RATE, rate),
                (_PITCH, pitch),
                (_RANGE, pitch_range),
                (_WORDGAP, word_gap),
            ):
                self._lib.espeak_SetParameter(param, int(value), 0)
            self._chunks = []
            data = text.encode("utf-8")
            error = self._lib.espeak_Synth(
                data,
                len(data) + 1,
                0,
                _POS_CHARACTER,
                0,
                _ESPEAK_CHARS_UTF8,
                None,
                None,
            )
            self._lib.espeak_Synchronize()
            if error != 0:
                raise DataError(f"eSpeak NG could not speak {text!r} (error {error})")
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.zeros(0, np.int16)
        return np.concatenate(chunks).astype(np.int16)


@functools.cache
def get() -> Synthesizer:
    """The process's synthesizer (eSpeak NG is initialized once)."""
    return Synthesizer()


# === Deterministic synthesis in a forking worker ===

_SEED = 1


def _speak_in_child(synth: Synthesizer, request: dict) -> bytes:
    """Forks; the child seeds the generators and speaks ``request``."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: a copy of the freshly initialized library
        os.close(read_fd)
        status = 0
        try:
            ctypes.CDLL(ctypes.util.find_library("c")).srand(_SEED)
            synth._lib.espeak_ng_SetRandSeed(ctypes.c_long(_SEED))
            pcm = synth.synthesize(**request).tobytes()
            payload = struct.pack("<q", len(pcm)) + pcm
        except Exception as err:  # reported to the parent, never raised here
            message = str(err).encode()
            payload = struct.pack("<q", -len(message) - 1) + message
            status = 1
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if len(data) < 8:  # the child died inside eSpeak NG before answering
        how = (
            f"signal {os.WTERMSIG(status)}"
            if os.WIFSIGNALED(status)
            else f"exit status {os.waitstatus_to_exitcode(status)}"
        )
        message = f"eSpeak NG crashed ({how}) speaking {request}".encode()
        data = struct.pack("<q", -len(message) - 1) + message
    return data


def _worker() -> None:
    """Reads a JSON list of requests on stdin; writes framed int16 samples."""
    requests = json.loads(sys.stdin.buffer.read())
    synth = Synthesizer()
    synth.synthesize("zero")  # a fixed warm-up: lazily built tables now exist
    # Voices are loaded in this process (once per voice, in a fixed order), so
    # children do not read voice and dictionary files for every request.
    order = sorted(range(len(requests)), key=lambda i: requests[i].get("voice", ""))
    results = [b""] * len(requests)
    loaded = None
    for i in order:
        voice = requests[i].get("voice", "en")
        if voice != loaded:
            synth._lib.espeak_SetVoiceByName(voice.encode())
            loaded = voice
        results[i] = _speak_in_child(synth, requests[i])
    out = sys.stdout.buffer
    out.write(struct.pack("<q", synth.sample_rate))
    for data in results:
        out.write(data)
    out.flush()


def synthesize_many(
    requests: list[dict], *, failures: str = "raise"
) -> tuple[int, list[np.ndarray | str]]:
    """Speaks each request (keyword arguments of :meth:`Synthesizer.synthesize`)
    from the same initial state, so the samples depend on the request only.

    Args:
        requests: the requests.
        failures: ``"raise"``: a request eSpeak NG refuses or crashes on
            raises; ``"return"``: its entry is the error message instead.

    Returns:
        ``(sample_rate, [int16 samples, or a message, per request])``.

    Raises:
        DataError: the worker failed, or (``failures="raise"``) eSpeak NG
            refused or crashed on a request (named in the message).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "dltoolkit.audio.espeak"],
        input=json.dumps(requests).encode(),
        capture_output=True,
        check=False,
    )
    data = proc.stdout
    if proc.returncode != 0 or len(data) < 8:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise DataError(f"eSpeak NG worker failed: {tail[0]}")
    rate = struct.unpack_from("<q", data, 0)[0]
    pos, out = 8, []
    for _ in requests:
        (n,) = struct.unpack_from("<q", data, pos)
        pos += 8
        if n < 0:
            message = data[pos : pos - n - 1].decode(errors="replace")
            if failures == "raise":
                raise DataError(message)
            out.append(message)
            pos += -n - 1
            continue
        out.append(np.frombuffer(data[pos : pos + n], dtype=np.int16).copy())
        pos += n
    return rate, out


if __name__ == "__main__":
    _worker()
