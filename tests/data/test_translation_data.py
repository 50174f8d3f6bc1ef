"""Translation data: tokenization, splits without leakage, pair files, TFDS."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.translation import (
    END_ID,
    count_batches,
    detokenize,
    load_embedded,
    load_translation,
    make_pipeline,
    split_pairs,
    standardize,
    target_labels,
    tokenize,
    vectorizer,
    with_vocabularies,
)
from dltoolkit.data.translation.files import (
    load_pairs_file,
    load_tfds_translation,
    read_pairs_file,
)
from dltoolkit.errors import DataError


def _strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


def test_standardize_and_detokenize_round_trip():
    texts = ["¿Dónde está el perro?", "Hay dos gatos, no tres.", "I think I know."]
    tokens = standardize(tf.constant(texts))
    assert _strings(tokens)[0] == "¿ dónde está el perro ?"
    assert _strings(detokenize(tokens[:2])) == texts[:2]
    assert _strings(detokenize(tokens[2:], english=True)) == texts[2:]


def test_standardize_survives_bad_text():
    raw = tf.constant([b"", b"   ", b"caf\xc3\xa9 \xff\xfe", "ÜBER 日本".encode()])
    assert _strings(standardize(raw)) == ["", "", "café \ufffd\ufffd", "über 日本"]
    assert _strings(detokenize(tf.constant(["", "ñandú ."]))) == ["", "Ñandú."]


def test_vocabulary_is_ordered_by_frequency_with_reserved_first():
    vocab = with_vocabularies(
        load_embedded(200, seed=1), source_size=30, target_size=40
    )
    assert len(vocab.source_vocab) == 28 and len(vocab.target_vocab) == 38
    assert vocab.target_vocab[:2] == ["[start]", "[end]"]
    counts = [
        sum(t.count(w) for t in tokenize([s for s, _ in vocab.train]))
        for w in ("the", ".")
    ]
    assert all(c > 0 for c in counts)
    assert vocab.source_vocab[0] in (".", "the")


def test_target_labels_end_with_end_token():
    ids = tf.constant([[5, 6, 7, 0], [8, 0, 0, 0], [4, 5, 6, 7]])
    np.testing.assert_array_equal(
        target_labels(ids),
        [[5, 6, 7, END_ID, 0], [8, END_ID, 0, 0, 0], [4, 5, 6, 7, END_ID]],
    )


def test_embedded_splits_share_no_sentence():
    data = load_embedded(3000, seed=0)
    assert data.sizes == {"train": 2700, "val": 150, "test": 150}
    sides = [
        ({s for s, _ in split}, {t for _, t in split})
        for split in (data.train, data.val, data.test)
    ]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not sides[i][0] & sides[j][0]
            assert not sides[i][1] & sides[j][1]
    assert load_embedded(3000, seed=0).test == data.test
    reverse = load_embedded(3000, seed=0, reverse=True)
    assert reverse.test == [(t, s) for s, t in data.test]
    assert (reverse.source_lang, reverse.target_lang) == ("es", "en")


def test_split_groups_translations_of_one_source():
    pairs = [(f"Sentence {i}.", f"Frase {i}{k}.") for i in range(40) for k in "ab"]
    pairs.append(("Sentence 0.", "Frase 1a."))  # a target shared with another source
    train, val, test = split_pairs(pairs, seed=0, val_fraction=0.1, test_fraction=0.1)
    for held in (val, test):
        assert not {s for s, _ in train} & {s for s, _ in held}
        assert not {t for _, t in train} & {t for _, t in held}
    assert len(train) + len(val) + len(test) <= len(pairs)
    with pytest.raises(DataError, match="too few"):
        split_pairs(pairs[:4], seed=0, val_fraction=0.1, test_fraction=0.1)


def _write(path, text):
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_reads_tatoeba_file(tmp_path):
    path = _write(
        tmp_path / "spa.txt",
        "\ufeffGo.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n"
        "Hi.\tHola.\n\nRun!\t¡Corre!\t#1\r\n",
    )
    assert read_pairs_file(path) == [
        ("Go.", "Ve."),
        ("Hi.", "Hola."),
        ("Run!", "¡Corre!"),
    ]
    assert read_pairs_file(path, reverse=True)[0] == ("Ve.", "Go.")


@pytest.mark.parametrize(
    "text, line, found",
    [
        ("Go.\tVe.\nno tab here\n", 2, "1 tab-separated fields"),
        ("Go.\tVe.\nHi.\tHola.\ta\tb\n", 2, "4 tab-separated fields"),
        ("Go.\tVe.\n\nHi.\t \n", 3, "an empty sentence"),
        (b"Go.\tVe.\nHi.\tHol\xe1.\n", 2, "not UTF-8 text"),
    ],
)
def test_malformed_file_names_file_and_line(tmp_path, text, line, found):
    path = _write(tmp_path / "bad.tsv", text)
    with pytest.raises(DataError) as err:
        read_pairs_file(path)
    message = str(err.value)
    assert f"{path}, line {line}" in message and found in message
    assert len(message.splitlines()) == 1


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="Pairs file not found"):
        read_pairs_file(tmp_path / "none.tsv")
    with pytest.raises(DataError, match="holds no sentence pairs"):
        read_pairs_file(_write(tmp_path / "empty.tsv", "\n\n"))
    with pytest.raises(DataError, match="Unknown data source 'nope'"):
        load_translation("nope", num_pairs=10)


def test_pairs_file_loader(tmp_path):
    lines = [f"I see {i} dogs.\tVeo {i} perros.\tCC-BY" for i in range(60)]
    path = _write(tmp_path / "pairs.tsv", "\n".join(lines) + "\n")
    data = load_pairs_file(path, seed=0, val_fraction=0.1, test_fraction=0.1)
    assert data.sizes == {"train": 48, "val": 6, "test": 6}
    assert "pairs file" in data.source
    small = load_translation(str(path), num_pairs=30, reverse=True)
    assert sum(small.sizes.values()) == 30
    assert small.train[0][0].startswith("Veo")
    assert (small.source_lang, small.target_lang) == ("other", "en")


def test_tfds_translation_by_name(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        data = load_tfds_translation(
            "ted_hrlr_translate/pt_to_en", data_dir=str(tmp_path), max_pairs=8
        )
    assert (data.source_lang, data.target_lang) == ("pt", "en")
    assert data.sizes["train"] == 8 and data.sizes["test"] == 12
    assert all(isinstance(s, str) and isinstance(t, str) for s, t in data.test)


def test_tfds_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="is not in the TFDS data dir"):
        load_translation("tfds:no_such_dataset", num_pairs=0, data_dir=str(tmp_path))


@pytest.mark.parametrize("fixed", [False, True])
def test_pipeline_batches_and_cardinality(fixed):
    data = with_vocabularies(load_embedded(400, seed=0), 500, 500)
    ds = make_pipeline(
        data.train,
        data.target_vocab,
        12,
        batch_size=16,
        shuffle=True,
        fixed_length=fixed,
    )
    batches = list(ds)
    assert len(batches) == count_batches(data.train, 16, fixed_length=fixed)
    assert int(ds.cardinality()) == len(batches)
    assert sum(len(x["source"]) for x, _ in batches) == len(data.train)
    targets = vectorizer(data.target_vocab, 12 if fixed else None)
    for x, labels in batches[:5]:
        ids = targets(x["target"])[:, :12]
        np.testing.assert_array_equal(labels, target_labels(ids))
        assert labels.shape[1] == (13 if fixed else ids.shape[1] + 1)
