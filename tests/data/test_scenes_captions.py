"""Caption data: normalization, vocabulary, pipelines, Flickr8k and TFDS readers."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from dltoolkit.data.captions import (
    END_ID,
    START_ID,
    UNK_ID,
    build_vocabulary,
    encode_captions,
    load_captions,
    load_scenes,
    make_pipeline,
    normalize_caption,
)
from dltoolkit.data.captions.files import load_flickr8k, read_captions_file
from dltoolkit.errors import DataError


def test_normalize_caption():
    assert normalize_caption("A dog, running!  On the GRASS .") == (
        "a dog running on the grass"
    )
    assert normalize_caption("It's a 2-year-old") == "it's a 2 year old"
    assert normalize_caption(" ... ") == ""


def test_vocabulary_orders_by_frequency_then_name():
    refs = [["b a a", "c a"], ["b d"]]
    vocab = build_vocabulary(refs, 100)
    assert vocab == ["", "[UNK]", "[start]", "[end]", "a", "b", "c", "d"]
    assert build_vocabulary(refs, 6) == ["", "[UNK]", "[start]", "[end]", "a", "b"]
    with pytest.raises(ValueError, match="vocab_size must be more than 4"):
        build_vocabulary(refs, 4)


def test_encode_captions_cuts_pads_and_repeats():
    vocab = ["", "[UNK]", "[start]", "[end]", "a", "b"]
    ids, counts = encode_captions([["a b zzz a"], ["b", "a"]], vocab, 3, 3)
    assert ids.shape == (2, 3, 5)
    assert ids[0, 0].tolist() == [START_ID, 4, 5, UNK_ID, END_ID]  # cut at 3 words
    assert ids[0, 2].tolist() == ids[0, 0].tolist()  # repeated to 3 references
    assert ids[1, 0].tolist() == [START_ID, 5, END_ID, 0, 0]
    assert ids[1, 2].tolist() == ids[1, 0].tolist()
    assert counts.tolist() == [1, 2]


def test_pipeline_is_teacher_forcing_with_random_references():
    data = load_scenes((10, 2, 2), image_size=32, max_shapes=2)
    vocab = build_vocabulary(data.train.references, 100)
    ds = make_pipeline(
        data.train, vocab, image_size=32, max_length=20, batch_size=4, shuffle=False
    )
    assert int(ds.cardinality()) == 3
    inputs, labels = next(iter(ds))
    assert inputs["image"].shape == (4, 32, 32, 3)
    assert inputs["image"].dtype == tf.float32
    np.testing.assert_allclose(
        inputs["image"][0].numpy(), data.train.images[0] / 255.0, atol=1e-6
    )
    tokens, labels = inputs["tokens"].numpy(), labels.numpy()
    assert tokens.shape == labels.shape == (4, 21)
    np.testing.assert_array_equal(tokens[:, 1:], labels[:, :-1])  # shifted by one
    assert (tokens[:, 0] == START_ID).all()
    first = " ".join(vocab[t] for t in labels[0] if t > END_ID)
    assert first == data.train.references[0][0]  # unshuffled: the first reference
    assert END_ID in labels[0]
    shuffled = make_pipeline(
        data.train, vocab, image_size=32, max_length=20, batch_size=10, shuffle=True
    )
    seen = set()
    for _ in range(8):
        _, y = next(iter(shuffled))
        seen |= {" ".join(vocab[t] for t in row if t > END_ID) for row in y.numpy()}
    refs = {r for refs in data.train.references for r in refs}
    assert seen <= refs and len(seen) > 10  # more than one reference per image


def _captions_of(ds, vocab):
    """Each batch row as ``(image bytes, caption text)``."""
    out = []
    for inputs, labels in ds:
        for image, row in zip(inputs["image"].numpy(), labels.numpy()):
            text = " ".join(vocab[t] for t in row if t > END_ID)
            out.append((image.tobytes(), text))
    return out


def test_every_reference_of_an_image_per_epoch():
    data = load_scenes((6, 2, 2), image_size=24, max_shapes=3, seed=3)
    data.train.references = [[f"{c} {i}" for c in "abcde"] for i in range(6)]
    vocab = build_vocabulary(data.train.references, 100)
    kwargs = dict(image_size=24, max_length=5, batch_size=4)
    ordered = make_pipeline(
        data.train, vocab, shuffle=False, captions_per_image=3, **kwargs
    )
    assert int(ordered.cardinality()) == 5  # 6 images x 3 captions / 4
    texts = [t for _, t in _captions_of(ordered, vocab)]
    assert texts[:6] == ["a 0", "b 0", "c 0", "a 1", "b 1", "c 1"]
    shuffled = make_pipeline(
        data.train, vocab, shuffle=True, captions_per_image=5, **kwargs
    )
    pairs = _captions_of(shuffled, vocab)
    assert len(pairs) == 30
    by_image = {}
    for image, text in pairs:
        by_image.setdefault(text.split()[1], []).append((image, text))
    for i, rows in by_image.items():  # all 5 distinct references, one image
        assert sorted(t for _, t in rows) == [f"{c} {i}" for c in "abcde"]
        assert len({image for image, _ in rows}) == 1
    # Fewer references than asked for: they repeat.
    data.train.references = [["x y"]] * 6
    twice = make_pipeline(
        data.train, vocab, shuffle=True, captions_per_image=2, **kwargs
    )
    assert len(_captions_of(twice, vocab)) == 12
    with pytest.raises(ValueError, match="captions_per_image must be >= 1"):
        make_pipeline(data.train, vocab, shuffle=True, captions_per_image=0, **kwargs)


def test_augmented_images_change_but_captions_do_not():
    data = load_scenes((8, 2, 2), image_size=24, max_shapes=2, seed=1)
    vocab = build_vocabulary(data.train.references, 100)
    kwargs = dict(image_size=24, max_length=8, batch_size=8, shuffle=False)
    plain = next(iter(make_pipeline(data.train, vocab, **kwargs)))
    moved = next(iter(make_pipeline(data.train, vocab, augment=0.2, **kwargs)))
    np.testing.assert_array_equal(plain[1].numpy(), moved[1].numpy())
    assert moved[0]["image"].shape == plain[0]["image"].shape
    assert not np.allclose(moved[0]["image"].numpy(), plain[0]["image"].numpy())


# === Flickr8k layout ===


def _write_flickr(root, names=("a.jpg", "b.jpg", "c.png", "d.jpg", "e.jpg")):
    (root / "Images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = ["image,caption"]
    for i, name in enumerate(names):
        pixels = rng.integers(0, 255, (40 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "Images" / name)
        lines += [
            f"{name},A dog runs on the grass number {i} .",
            f'{name},"A brown dog, running fast"',
            f"{name},The dog plays, jumps and runs",
        ]
    (root / "captions.txt").write_text("\n".join(lines) + "\n")
    return root


def test_flickr8k_layout(tmp_path):
    root = _write_flickr(tmp_path / "flickr")
    captions = read_captions_file(root / "captions.txt")
    assert captions["a.jpg"] == [
        "a dog runs on the grass number 0",
        "a brown dog running fast",
        "the dog plays jumps and runs",
    ]
    data = load_captions(str(root), seed=0, val_fraction=0.2, test_fraction=0.2)
    assert data.sizes == {"train": 3, "val": 1, "test": 1}
    every = data.train.images + data.val.images + data.test.images
    assert sorted(p.rsplit("/", 1)[1] for p in every) == sorted(captions)
    assert data.test.scenes is None
    vocab = build_vocabulary(data.train.references, 50)
    ds = make_pipeline(
        data.train, vocab, image_size=16, max_length=8, batch_size=2, shuffle=True
    )
    inputs, labels = next(iter(ds))
    assert inputs["image"].shape == (2, 16, 16, 3) and labels.shape == (2, 9)
    same = load_flickr8k(root, seed=0, val_fraction=0.2, test_fraction=0.2)
    assert same.test.images == data.test.images  # seeded split


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: (r / "captions.txt").unlink(), "captions.txt is missing"),
        (
            lambda r: (r / "captions.txt").write_text("file,text\na.jpg,x\n"),
            "header 'image,caption'",
        ),
        (
            lambda r: (r / "captions.txt").write_text("image,caption\nlonely\n"),
            "line 2: expected 'image,caption'",
        ),
        (
            lambda r: (r / "captions.txt").write_bytes(b"image,caption\na.jpg,\xff\n"),
            "is not valid UTF-8",
        ),
        (lambda r: (r / "Images" / "b.jpg").unlink(), "names b.jpg, not found"),
        (
            lambda r: (r / "Images" / "c.png").write_bytes(b"not an image"),
            "Unreadable image: .*c.png",
        ),
        (lambda r: (r / "captions.txt").write_text("image,caption\n"), "no captions"),
    ],
)
def test_flickr8k_errors(tmp_path, damage, message):
    root = _write_flickr(tmp_path / "flickr")
    damage(root)
    with pytest.raises(DataError, match=message):
        load_flickr8k(root, val_fraction=0.2, test_fraction=0.2)


def test_missing_folder_and_too_few_images(tmp_path):
    with pytest.raises(DataError, match="Caption data not found"):
        load_captions(str(tmp_path / "nowhere"))
    root = _write_flickr(tmp_path / "two", names=("a.jpg", "b.jpg"))
    with pytest.raises(DataError, match="too few to split"):
        load_flickr8k(root)


# === TFDS ===


def test_tfds_coco_captions_by_name(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        data = load_captions(
            "tfds:coco_captions", data_dir=str(tmp_path), image_size=16, max_images=3
        )
    assert data.sizes == {"train": 3, "val": 3, "test": 3}
    assert data.train.images.shape == (3, 16, 16, 3)
    assert data.train.images.dtype == np.uint8
    assert all(
        refs and all(isinstance(r, str) for r in refs) for refs in data.train.references
    )


def test_tfds_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not in the TFDS data dir"):
        load_captions("tfds:no_such_dataset", data_dir=str(tmp_path))
