"""The translation app with subwords: cased text, names and rare words, export."""

import json
import random
import textwrap

import pytest
import tensorflow as tf
from app_helpers import run_fresh_process

from dltoolkit.apps.translation.app import APP
from dltoolkit.data.translation import SubwordVectorizer

NAMES = ["Tom", "Mary", "Ken", "Alice", "Zorbly", "Quaffle", "Ōsaka"]
VERBS = [("is happy", "está feliz"), ("is tired", "está cansado"), ("eats", "come")]


def _pairs_file(path, count=1500, seed=0):
    """A cased pairs file: ``NAME VERB.`` -> ``NAME VERBO.`` (names copied)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        name = rng.choice(NAMES)
        english, spanish = rng.choice(VERBS)
        lines.append(f"{name} {english}.\t{name} {spanish}.\tCC-BY 2.0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("translation_subwords")
    data = _pairs_file(root / "pairs.txt")
    overrides = [
        f"data={data}",
        "num_pairs=0",
        "tokenizer=subwords",
        "subword_vocab_size=300",
        "label_smoothing=0.1",
        "epochs=12",
        "embedding_dim=64",
        "units=128",
        "learning_rate=0.01",
    ]
    config = APP.resolve("smoke", overrides)
    metrics = APP.train(config, root / "run", profile="smoke", verbose=0)
    return root / "run", config, metrics


def test_names_keep_their_case_through_the_export(run):
    run_dir, _, metrics = run
    serve = tf.saved_model.load(str(run_dir / "export")).signatures["serving_default"]
    sources = ["Tom is happy.", "Mary eats.", "Ken is tired."]
    out = serve(sentences=tf.constant(sources))
    translations = [t.decode() for t in out["translation"].numpy()]
    assert translations == ["Tom está feliz.", "Mary come.", "Ken está cansado."]
    assert out["unknown_words"].numpy().tolist() == [0, 0, 0]
    # BLEU is case-sensitive: the cased test split is translated exactly.
    assert metrics["bleu"] == pytest.approx(100.0)


def test_unknown_words_are_reported_and_spelled(run):
    run_dir, _, _ = run
    serve = tf.saved_model.load(str(run_dir / "export")).signatures["serving_default"]
    out = serve(sentences=tf.constant(["Blicket is happy.", "", "Ünï ☃"]))
    assert out["unknown_words"].numpy().tolist() == [1, 0, 2]
    texts = [t.decode("utf-8") for t in out["translation"].numpy()]
    assert texts[1] == "" and texts[0].endswith("está feliz.")


def test_export_loads_without_dltoolkit(run, tmp_path):
    """A fresh process needs TensorFlow Text's ops, not dltoolkit."""
    run_dir, _, _ = run
    script = textwrap.dedent(
        f"""
        import json, sys
        import tensorflow as tf
        import tensorflow_text  # registers the SentencePiece ops
        model = tf.saved_model.load({str(run_dir / "export")!r})
        out = model.signatures["greedy"](sentences=tf.constant(["Alice eats."]))
        assert "dltoolkit" not in sys.modules
        json.dump(out["translation"].numpy()[0].decode(), open("out.json", "w"))
        """
    )
    run_fresh_process(script, tmp_path)
    assert json.loads((tmp_path / "out.json").read_text()) == "Alice come."


def test_model_reloads_with_its_vocabulary(run):
    run_dir, _, _ = run
    import keras

    model = keras.models.load_model(run_dir / "model.keras")
    layer = model.get_layer("source_vectorizer")
    assert isinstance(layer, SubwordVectorizer) and "tom" in layer.known_words


def test_predict_notes_unknown_words(run):
    run_dir, _, _ = run
    lines = APP.predict(run_dir, ["Alice is tired.", "Blicket eats."])
    assert lines[0] == "Alice is tired.\tAlice está cansado."
    assert lines[1].endswith("(1 unknown word(s))")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["tokenizer=chars"], "Unknown tokenizer 'chars'"),
        (["tokenizer=subwords", "subword_vocab_size=8"], "subword_vocab_size must"),
        (["label_smoothing=1.5"], "label_smoothing must be in [0, 1)"),
    ],
)
def test_bad_subword_settings_exit_with_one_line(overrides, message, tmp_path, capsys):
    from app_helpers import train_error

    assert message in train_error(APP, tmp_path / "run", capsys, overrides)


@pytest.mark.slow  # 11 s; the module's GRU run covers the subword path
def test_transformer_on_subwords_trains_and_exports(tmp_path):
    """The real profile's path: a variable-length transformer on subwords."""
    data = _pairs_file(tmp_path / "pairs.txt", count=300)
    overrides = [
        f"data={data}",
        "num_pairs=0",
        "tokenizer=subwords",
        "subword_vocab_size=300",
        "model=transformer",
        "num_layers=1",
        "num_heads=2",
        "epochs=1",
    ]
    config = APP.resolve("smoke", overrides)
    metrics = APP.train(config, tmp_path / "run", profile="smoke", verbose=0)
    assert metrics["test_examples"] > 0
    assert (tmp_path / "run" / "attention.png").is_file()
    export = tf.saved_model.load(str(tmp_path / "run" / "export"))
    out = export.signatures["greedy"](sentences=tf.constant(["", "Blicket eats."]))
    assert out["translation"].numpy()[0] == b""
    assert out["unknown_words"].numpy().tolist() == [0, 1]
