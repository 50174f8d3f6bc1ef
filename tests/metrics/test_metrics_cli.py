"""dltk bleu: hypotheses on stdin, reference files as arguments."""

import io

import pytest
import sacrebleu

from dltoolkit import __version__
from dltoolkit.cli import main

HYPS = "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n"
REF_A = "The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n"
REF_B = "The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n"


@pytest.fixture
def refs(tmp_path):
    paths = []
    for name, text in (("ref.a", REF_A), ("ref.b", REF_B)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    return paths


def _run(monkeypatch, argv, stdin=HYPS):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_bleu_two_references(monkeypatch, capsys, refs):
    assert _run(monkeypatch, ["bleu", *refs]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 "
        "hyp_len = 17 ref_len = 18)",
        f"nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:dltoolkit-{__version__}",
    ]


def test_bleu_options(monkeypatch, capsys, refs):
    argv = ["bleu", refs[0], "--tokenize", "intl", "--lowercase", "--smooth-method"]
    assert _run(monkeypatch, [*argv, "floor"]) == 0
    score_line, signature = capsys.readouterr().out.splitlines()
    expected = sacrebleu.corpus_bleu(
        HYPS.splitlines(),
        [REF_A.splitlines()],
        tokenize="intl",
        lowercase=True,
        smooth_method="floor",
    )
    assert score_line == str(expected)
    assert signature.startswith("nrefs:1|case:lc|eff:no|tok:intl|smooth:floor[0.10]|")


def test_missing_reference_file(monkeypatch, capsys, refs, tmp_path):
    missing = str(tmp_path / "nope.txt")
    assert _run(monkeypatch, ["bleu", refs[0], missing]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: cannot read reference file {missing!r}: No such file or directory"
    ]


def test_line_count_mismatch(monkeypatch, capsys, refs):
    assert _run(monkeypatch, ["bleu", refs[0]], stdin="only one line\n") == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "has 3 lines but stdin has 1" in err[0]


def test_unknown_tokenizer_is_a_usage_error(monkeypatch, capsys, refs):
    with pytest.raises(SystemExit) as exit_info:
        _run(monkeypatch, ["bleu", refs[0], "--tokenize", "moses"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'moses'" in capsys.readouterr().err
