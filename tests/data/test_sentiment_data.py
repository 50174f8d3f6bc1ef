"""Sentiment data: the generated corpus, loaders, bad files, pipelines."""

import re

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.sentiment import (
    load_acl_imdb,
    load_sentiment,
    load_table,
    load_tfds_reviews,
    make_pipeline,
    negated_sentiment,
    sentiment_lexicon,
    tag_reviews,
)
from dltoolkit.data.sentiment.core import CORE_SENTIMENT
from dltoolkit.data.sentiment.reviews import generate_reviews, review_splits
from dltoolkit.errors import DataError

NEGATORS = re.compile(r"\b(not|never|hardly|far from|\w+n't)\b", re.IGNORECASE)


# === Generated corpus ===


def test_generator_is_deterministic_balanced_and_tagged():
    a = generate_reviews(400, seed=3)
    b = generate_reviews(400, seed=3)
    assert a.texts == b.texts and np.array_equal(a.labels, b.labels)
    assert generate_reviews(400, seed=4).texts != a.texts
    assert len(set(a.texts)) == 400
    assert a.labels.sum() == 200
    for tag in ("negation", "contrast", "long"):
        assert 0.1 < a.tags[tag].mean() < 0.6, tag
        # Both labels in every tagged subset: a tag tells nothing of the label.
        assert 0.3 < a.labels[a.tags[tag]].mean() < 0.7, tag


def test_tags_describe_the_text():
    reviews = generate_reviews(300, seed=0)
    for text, tags in zip(reviews.texts, zip(*reviews.tags.values())):
        negation, contrast, long = tags
        if contrast:
            assert re.search(r"\b(but|however)\b", text, re.IGNORECASE)
        if negation and not contrast:
            assert NEGATORS.search(text)
        if not (negation or contrast):  # a filler may say "not", opinions do not
            assert not NEGATORS.search(text.replace("I have not read", ""))
        if long:
            assert text.count(".") >= 7


def test_splits_are_disjoint_and_balanced():
    train, val, test = review_splits(600, seed=1)
    assert (len(train), len(val), len(test)) == (420, 60, 120)
    assert not set(train.texts) & set(test.texts)
    assert not set(train.texts) & set(val.texts)
    assert not set(val.texts) & set(test.texts)
    for split in (train, val, test):
        assert split.labels.mean() == 0.5
    again = review_splits(600, seed=1)
    assert again[2].texts == test.texts


def test_bag_of_words_falls_short_on_negation_and_contrast():
    """A linear bag of words learns the plain reviews, not the composed ones."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    train, _, test = review_splits(5000, seed=0)
    counts = CountVectorizer(binary=True)
    clf = LogisticRegression(max_iter=2000)
    clf.fit(counts.fit_transform(train.texts), train.labels)
    right = clf.predict(counts.transform(test.texts)) == test.labels
    plain = ~(test.tags["negation"] | test.tags["contrast"])
    assert right[plain].mean() > 0.7
    assert right[test.tags["negation"]].mean() < 0.65
    assert right[test.tags["contrast"]].mean() < 0.65


def test_too_few_reviews_is_a_data_error():
    with pytest.raises(DataError, match="num_reviews=5 is too few"):
        load_sentiment("reviews", num_reviews=5)


# === CSV / TSV ===


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def _rows(n=12):
    return [
        (f"review number {i} was {'good' if i % 2 else 'bad'}", i % 2) for i in range(n)
    ]


def test_csv_with_default_columns_and_label_words(tmp_path):
    names = {0: "Negative", 1: "POS"}
    lines = ["id,review,sentiment"] + [
        f'{i},"{t}, really",{names[y]}' for i, (t, y) in enumerate(_rows())
    ]
    data = load_table(_write(tmp_path / "r.csv", "\n".join(lines)))
    assert sum(data.sizes.values()) == 12
    texts = data.train.texts + data.val.texts + data.test.texts
    assert all(t.endswith(", really") for t in texts)
    for split in (data.train, data.val, data.test):
        assert all(("good" in t) == bool(y) for t, y in zip(split.texts, split.labels))


def test_tsv_with_named_columns(tmp_path):
    lines = ["body\tstars"] + [f"{t}\t{y}" for t, y in _rows()]
    path = _write(tmp_path / "r.tsv", "\n".join(lines))
    data = load_sentiment(str(path), text_column="body", label_column="stars")
    assert sum(data.sizes.values()) == 12
    with pytest.raises(DataError, match="no text column 'text'.*body, stars"):
        load_table(path, text_column="text", label_column="stars")


def test_unexpected_labels_are_listed(tmp_path):
    lines = ["text,label"] + [f"{t},{y}" for t, y in _rows()]
    lines[3] = "meh,maybe"
    lines[6] = "fine,2"
    path = _write(tmp_path / "r.csv", "\n".join(lines))
    with pytest.raises(DataError) as err:
        load_table(path)
    message = str(err.value)
    assert "unexpected values: 'maybe' (row 4), '2' (row 7)" in message
    assert "accepted: 0/1, neg/pos, negative/positive" in message


def test_non_utf8_byte_names_file_and_line(tmp_path):
    text = b"text,label\ngood one,1\n" + b"caf\xe9 bad,0\nok,1\n"
    path = _write(tmp_path / "latin1.csv", text)
    with pytest.raises(DataError, match=r"latin1.csv, line 3: byte 0xe9 at column 4"):
        load_table(path)


def test_one_class_only_is_refused(tmp_path):
    lines = ["text,label"] + [f"fine {i},1" for i in range(8)]
    with pytest.raises(DataError, match="0 negative and 8 positive"):
        load_table(_write(tmp_path / "r.csv", "\n".join(lines)))


def test_unknown_source_lists_the_valid_ones():
    with pytest.raises(DataError, match="Valid: reviews"):
        load_sentiment("no_such_source")


# === aclImdb folder ===


def _acl(root, with_test=True, per_class=6):
    for split in ("train", "test") if with_test else ("train",):
        for label in ("pos", "neg"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                word = "great" if label == "pos" else "awful"
                (folder / f"{i}_7.txt").write_text(f"A {word} film<br />number {i}.")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabeled text")
    return root


def test_acl_imdb_layout(tmp_path):
    data = load_acl_imdb(_acl(tmp_path / "aclImdb"))
    assert data.sizes == {"train": 10, "val": 2, "test": 12}
    assert data.unlabeled == ["unlabeled text"]
    assert all(
        ("great" in t) == bool(y) for t, y in zip(data.test.texts, data.test.labels)
    )
    no_test = load_acl_imdb(_acl(tmp_path / "b", with_test=False), test_fraction=0.25)
    assert no_test.sizes["test"] == 4  # round(6 * 0.25) per class


def test_acl_imdb_errors(tmp_path):
    with pytest.raises(DataError, match="not an aclImdb folder"):
        load_acl_imdb(tmp_path)
    root = _acl(tmp_path / "aclImdb")
    (root / "train" / "neg" / "9_1.txt").write_bytes(b"line one\nbad \xff byte")
    with pytest.raises(DataError, match=r"9_1.txt, line 2: byte 0xff"):
        load_sentiment(str(root))


# === TFDS ===


def test_tfds_imdb_reviews_is_read_not_downloaded(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        data = load_tfds_reviews("imdb_reviews", data_dir=str(tmp_path))
    assert data.sizes == {"train": 18, "val": 2, "test": 20}
    assert len(data.unlabeled) == 20
    assert all(isinstance(t, str) for t in data.train.texts)
    assert set(data.test.tags) == {"negation", "contrast", "long"}


def test_missing_tfds_dataset_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not in the TFDS data dir"):
        load_sentiment("imdb", data_dir=str(tmp_path))


# === Tags and pipelines ===


def test_keyword_tags_for_real_text():
    texts = ["It wasn't good.", "Good, but long.", "fine", "a b c d e f g h i j"]
    tags = tag_reviews(texts)
    assert tags["negation"].tolist() == [True, False, False, False]
    assert tags["contrast"].tolist() == [False, True, False, False]
    assert tags["long"].tolist() == [False, False, False, True]


def test_pipeline_yields_every_review_once_in_similar_length_batches():
    train, _, _ = review_splits(300, seed=0)
    ds = make_pipeline(train, batch_size=16, shuffle=True, seed=0, sort_window=4)
    assert int(ds.cardinality()) == -(-len(train) // 16)
    seen = []
    for texts, labels in ds:
        seen += [t.decode() for t in texts.numpy()]
        assert texts.dtype == tf.string and labels.dtype == tf.int64
    assert sorted(seen) == sorted(train.texts)


# === Negated sentiment phrases (real data) ===

LEXICON = frozenset({"good", "boring", "bad", "great"})


@pytest.mark.parametrize(
    "text, pairs",
    [
        ("It was not good.", [("not", "good")]),
        ("It wasn't very good at all", [("wasn't", "good")]),
        ("Never boring, never bad!", [("never", "boring"), ("never", "bad")]),
        ("I don't think it's good", [("don't", "good")]),  # 3 words on
        ("I don't think that it's good", []),  # 4 words on: out of reach
        ("Not only good but great", []),  # "not only" negates nothing
        ("No doubt a great film", []),
        ("No, it is good.", []),  # the clause ends at the comma
        ("Not the plot but the great cast", []),  # nor at "but"
        ("Not<br />good", []),  # a line break ends the clause
        ("It was not funny", []),  # "funny" is not in this lexicon
        ("NOT GOOD", [("not", "good")]),
        ("It isn’t good", [("isn't", "good")]),
    ],
)
def test_negated_sentiment_finds_negated_lexicon_words(text, pairs):
    assert negated_sentiment(text, LEXICON) == pairs


def test_sentiment_lexicon_reads_unnegated_polar_words():
    texts = ["A brilliant film.", "Brilliant acting, a plot."] * 4 + [
        "Dreadful, a plot.",
        "Do not bother. Dreadful.",
    ] * 4
    labels = [1, 1] * 4 + [0, 0] * 4
    lexicon = sentiment_lexicon(texts, labels, min_ratio=1.0)
    # In half the reviews of one class only: in; "plot" is in both classes;
    # "bother" only ever follows a negator; the core words are always in.
    assert {"brilliant", "dreadful"} <= lexicon
    assert {"plot", "bother", "a", "not"}.isdisjoint(lexicon)
    assert CORE_SENTIMENT <= lexicon


def test_loaders_tag_negated_sentiment_with_the_training_lexicon(tmp_path):
    for split, label, text in [
        ("train", "pos", "A superb film, superb acting."),
        ("train", "pos", "Superb. Not boring at all."),
        ("train", "pos", "Superb cast."),
        ("train", "neg", "Dull and dreadful."),
        ("train", "neg", "Dreadful. Not superb at all."),
        ("train", "neg", "Dreadful plot."),
        ("train", "pos", "Superb!"),
        ("train", "neg", "Dreadful!"),
        ("test", "pos", "It was not dreadful"),
        ("test", "neg", "Not a film, not a plot"),
    ]:
        folder = tmp_path / split / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{len(list(folder.iterdir()))}_1.txt").write_text(text)
    data = load_acl_imdb(tmp_path, val_fraction=0.1)
    assert "dreadful" in sentiment_lexicon(data.train.texts, data.train.labels)
    assert data.test.texts == ["Not a film, not a plot", "It was not dreadful"]
    assert data.test.tags["negation"].tolist() == [False, True]
