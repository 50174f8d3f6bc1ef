"""Tokenizers of BLEU: ``13a``, ``intl``, ``char`` and ``none``.

Each tokenizer maps a segment to a tuple of tokens, the same tokens that
``" ".join(tokens)`` gives when sacreBLEU's tokenizer of the same name is
applied and its output split on whitespace.

Both rule-based tokenizers (``13a`` and ``intl``) only insert spaces, and
every rule looks at two adjacent characters at most. Whitespace is never
punctuation, a symbol, a digit or a dash, so the rules never reach across a
whitespace-separated chunk: the tokens of a segment are the tokens of its
chunks, one after the other. Chunks repeat across a corpus (Zipf's law), so
the tokens of each chunk are computed once and cached.

References:
    Papineni et al. (2002), BLEU: a method for automatic evaluation of machine
    translation, ACL.
    Post (2018), A call for clarity in reporting BLEU scores, WMT (sacreBLEU).
    NIST mteval-v13a.pl and mteval-v14.pl (the ``13a`` and ``intl`` rules).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

Tokenizer = Callable[[str], list[str]]

TOKENIZERS = ("13a", "intl", "char", "none")

_CACHE_LIMIT = 1 << 20  # chunks; a cache is emptied when it grows past this

# === 13a (mteval-v13a.pl) ===

# Characters split off wherever they occur: ASCII punctuation and symbols
# except the apostrophe, the comma, the dash and the period.
_SPLIT_ALWAYS_13A = '{|}~[\\]^_`!"#$%&()*+:;<=>?@/'
# Chunks: one such character, or a run of other non-whitespace characters
# (``\s`` and ``str.split`` agree on what whitespace is).
_CHUNKS_13A = re.compile(
    f"[{re.escape(_SPLIT_ALWAYS_13A)}]|[^{re.escape(_SPLIT_ALWAYS_13A)}\\s]+"
)
# Period and comma are split unless between digits; a dash after a digit.
# Each rule rewrites non-overlapping character pairs, left to right.
_PERIOD_COMMA_AFTER_NON_DIGIT = re.compile(r"([^0-9])([.,])")
_PERIOD_COMMA_BEFORE_NON_DIGIT = re.compile(r"([.,])([^0-9])")
_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")
_CHUNK_CACHE_13A: dict[str, tuple[str, ...]] = {}


def _chunk_13a(chunk: str) -> tuple[str, ...]:
    """Tokens of one chunk that holds a period, a comma or a dash."""
    text = f" {chunk} "  # the chunk's neighbours are whitespace
    text = _PERIOD_COMMA_AFTER_NON_DIGIT.sub(r"\1 \2 ", text)
    text = _PERIOD_COMMA_BEFORE_NON_DIGIT.sub(r" \1 \2", text)
    text = _DASH_AFTER_DIGIT.sub(r"\1 \2 ", text)
    tokens = tuple(text.split())
    if len(_CHUNK_CACHE_13A) >= _CACHE_LIMIT:
        _CHUNK_CACHE_13A.clear()
    _CHUNK_CACHE_13A[chunk] = tokens
    return tokens


def tokenize_13a(line: str) -> list[str]:
    """Tokenizes like mteval-v13a.pl, the WMT standard and BLEU's default.

    Rules, in order: remove ``<skipped>`` and ``-\\n``, turn newlines into
    spaces, unescape ``&quot; &amp; &lt; &gt;``; split off every ASCII
    punctuation or symbol character except ``' , - .``; split off a period
    or comma that follows a non-digit, then one that precedes a non-digit
    (the segment is padded with spaces, so a final period is split); split
    off a dash that follows a digit.

    Args:
        line: One segment.

    Returns:
        The tokens.
    """
    if "<skipped>" in line:
        line = line.replace("<skipped>", "")
    if "\n" in line:
        line = line.replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&")
        line = line.replace("&lt;", "<").replace("&gt;", ">")
    chunks = _CHUNKS_13A.findall(line)
    if "." not in line and "," not in line and "-" not in line:
        return chunks
    tokens: list[str] = []
    cache = _CHUNK_CACHE_13A
    for chunk in chunks:
        cached = cache.get(chunk)
        if cached is not None:
            tokens += cached
        elif "." in chunk or "," in chunk or "-" in chunk:
            tokens += _chunk_13a(chunk)
        else:
            tokens.append(chunk)
    return tokens


# === intl (mteval-v14.pl, international) ===


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] == "P"


def _is_symbol(char: str) -> bool:
    return unicodedata.category(char)[0] == "S"


def _is_not_number(char: str) -> bool:
    return unicodedata.category(char)[0] != "N"


def _rewrite_pairs(text: str, first, second, rewrite) -> str:
    """Rewrites non-overlapping pairs ``(a, b)`` with ``first(a)`` and
    ``second(b)``, scanning left to right like ``re.sub``."""
    out = []
    i, end = 0, len(text) - 1
    while i < end:
        a, b = text[i], text[i + 1]
        if first(a) and second(b):
            out.append(rewrite(a, b))
            i += 2
        else:
            out.append(a)
            i += 1
    out.append(text[i:])
    return "".join(out)


_CHUNK_CACHE_INTL: dict[tuple[str, bool, bool], tuple[str, ...]] = {}


def _chunk_intl(chunk: str, left: bool, right: bool) -> tuple[str, ...]:
    """Tokens of one chunk; ``left``/``right``: whitespace on that side."""
    key = (chunk, left, right)
    cached = _CHUNK_CACHE_INTL.get(key)
    if cached is not None:
        return cached
    text = (" " if left else "") + chunk + (" " if right else "")
    text = _rewrite_pairs(
        text, _is_not_number, _is_punctuation, lambda a, b: f"{a} {b} "
    )
    text = _rewrite_pairs(
        text, _is_punctuation, _is_not_number, lambda a, b: f" {a} {b}"
    )
    text = "".join(f" {c} " if _is_symbol(c) else c for c in text)
    tokens = tuple(text.split())
    if len(_CHUNK_CACHE_INTL) >= _CACHE_LIMIT:
        _CHUNK_CACHE_INTL.clear()
    _CHUNK_CACHE_INTL[key] = tokens
    return tokens


def tokenize_intl(line: str) -> list[str]:
    """Tokenizes like mteval-v14.pl's international tokenization.

    Rules, in order, on Unicode general categories: split off punctuation
    (P*) that follows a non-number (not N*); split off punctuation that
    precedes a non-number; split off every symbol (S*). The segment is not
    padded, so a number followed by a final period stays one token
    (``1999.``), as in mteval-v14.pl.

    Categories come from Python's ``unicodedata`` (Unicode 14 on Python 3.11);
    sacreBLEU uses the ``regex`` package, whose tables may be newer, so the two
    can differ on characters assigned after Unicode 14.

    Args:
        line: One segment.

    Returns:
        The tokens.
    """
    chunks = line.split()
    if not chunks:
        return []
    left_open = not line[0].isspace()  # nothing before the first chunk
    tokens: list[str] = []
    last = len(chunks) - 1
    for i, chunk in enumerate(chunks):
        if chunk.isalnum():  # letters and numbers only: nothing to split
            tokens.append(chunk)
        else:
            left = i > 0 or not left_open
            right = i < last or line[-1].isspace()
            tokens += _chunk_intl(chunk, left, right)
    return tokens


def clear_caches() -> None:
    """Empties the chunk caches (for benchmarks that time a cold start)."""
    _CHUNK_CACHE_13A.clear()
    _CHUNK_CACHE_INTL.clear()


# === char and none ===


def tokenize_char(line: str) -> list[str]:
    """Every non-whitespace character is a token."""
    return list("".join(line.split()))


def tokenize_none(line: str) -> list[str]:
    """Splits on whitespace only (for text that is already tokenized)."""
    return line.split()


_BY_NAME: dict[str, Tokenizer] = {
    "13a": tokenize_13a,
    "intl": tokenize_intl,
    "char": tokenize_char,
    "none": tokenize_none,
}


def get_tokenizer(name: str) -> Tokenizer:
    """Returns the tokenizer called ``name`` (one of ``TOKENIZERS``).

    Raises:
        ValueError: For an unknown name; the message lists the known ones.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown tokenizer {name!r}. Known tokenizers: {', '.join(TOKENIZERS)}."
        ) from None


def tokenize(line: str, name: str = "13a") -> list[str]:
    """Tokenizes one segment with the tokenizer called ``name``.

    Example:
        >>> tokenize("It costs $1,000.50, isn't it?")
        ['It', 'costs', '$', '1,000.50', ',', "isn't", 'it', '?']
    """
    return list(get_tokenizer(name)(line))
