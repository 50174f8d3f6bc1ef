"""The scene generator: determinism, disjoint splits, true captions and pixels."""

import collections

import numpy as np
import pytest

from dltoolkit.data.captions.scenes import (
    COLORS,
    REGIONS,
    SIZES,
    caption_objects,
    captions,
    digest,
    generate_scenes,
    names_objects_correctly,
)


@pytest.fixture(scope="module")
def scenes():
    return generate_scenes(300, seed=3)


def test_same_seed_same_scenes_and_prefix_stable():
    a = generate_scenes(6, seed=1, background="texture", noise=5.0)
    b = generate_scenes(6, seed=1, background="texture", noise=5.0)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.references == b.references and a.scenes == b.scenes
    head = generate_scenes(3, seed=1, background="texture", noise=5.0)
    np.testing.assert_array_equal(head.images, a.images[:3])
    other = generate_scenes(6, seed=2)
    assert other.references != a.references


def test_splits_are_disjoint():
    from dltoolkit.data.captions import load_scenes

    data = load_scenes((400, 200, 200), seed=0, image_size=32, max_shapes=1)
    train, val, test = (
        {digest(im) for im in split.images}
        for split in (data.train, data.val, data.test)
    )
    assert len(data.val) == len(data.test) == 200
    assert not train & val and not train & test and not val & test
    # An excluded image is passed over; the next scenes move up.
    first = generate_scenes(5, split="test", seed=0)
    skipped = generate_scenes(
        5, split="test", seed=0, exclude={digest(first.images[0])}
    )
    np.testing.assert_array_equal(skipped.images[:4], first.images[1:])
    assert skipped.references[:4] == first.references[1:]


def test_counts_layouts_and_shapes(scenes):
    counts = collections.Counter(len(s.shapes) for s in scenes.scenes)
    assert set(counts) == {1, 2, 3}
    assert all(c > 60 for c in counts.values())
    assert scenes.images.shape == (300, 64, 64, 3) and scenes.images.dtype == np.uint8
    layouts = {s.layout for s in scenes.scenes}
    assert layouts == {"single", "row", "column"}
    assert generate_scenes(20, max_shapes=1).scenes[0].layout == "single"
    assert max(len(s.shapes) for s in generate_scenes(40, max_shapes=2).scenes) == 2


def test_every_reference_names_the_true_objects(scenes):
    for refs, scene in zip(scenes.references, scenes.scenes):
        assert len(refs) >= 3 and len(set(refs)) == len(refs)
        for ref in refs:
            assert caption_objects(ref) == scene.objects, ref
            assert names_objects_correctly(ref, scene)
            for shape in scene.shapes:
                assert f"{shape.size} {shape.color} {shape.shape}" in ref


def test_relations_match_positions(scenes):
    for scene, refs in zip(scenes.scenes, scenes.references):
        shapes = scene.shapes
        if scene.layout == "single":
            (s,) = shapes
            row, col = scene.region
            assert row == int(s.y // (64 / 3)) and col == int(s.x // (64 / 3))
            assert refs[0].endswith(REGIONS[scene.region])
            continue
        along = [s.x if scene.layout == "row" else s.y for s in shapes]
        across = [s.y if scene.layout == "row" else s.x for s in shapes]
        for a, b in zip(shapes, shapes[1:]):
            i = shapes.index(a)
            # In order along the axis, clearly more apart than across it.
            assert along[i + 1] - along[i] >= a.radius + b.radius
            assert along[i + 1] - along[i] > 2 * abs(across[i + 1] - across[i])
        word = {"row": "to the left of", "column": "above"}[scene.layout]
        if len(shapes) == 2:
            assert refs[0] == f"{shapes[0].phrase} {word} {shapes[1].phrase}"
            back = {"row": "to the right of", "column": "below"}[scene.layout]
            assert refs[1] == f"{shapes[1].phrase} {back} {shapes[0].phrase}"


def test_pixels_show_the_ground_truth():
    s = generate_scenes(60, seed=5)
    for image, scene in zip(s.images, s.scenes):
        for shape in scene.shapes:
            x, y = int(shape.x), int(shape.y)
            np.testing.assert_array_equal(image[y, x], COLORS[shape.color])
            r = shape.radius
            assert r == pytest.approx(SIZES[shape.size] * 64)
            assert r <= shape.x <= 64 - r and r <= shape.y <= 64 - r
        assert (image[0, 0] == 30).all() or len(scene.shapes) > 0


def test_texture_and_noise_change_only_the_pixels():
    plain = generate_scenes(4, seed=9)
    rough = generate_scenes(4, seed=9, background="texture", noise=8.0)
    assert plain.scenes == rough.scenes and plain.references == rough.references
    assert np.abs(plain.images.astype(int) - rough.images).mean() > 3
    corner = plain.images[:, :2, :2].reshape(-1, 3)
    assert (corner == 30).all()  # the plain background is flat dark gray


def test_caption_objects_examples():
    assert caption_objects("a small red circle above a blue square") == (
        collections.Counter({("red", "circle"): 1, ("blue", "square"): 1})
    )
    assert caption_objects("a red circle a red circle") == collections.Counter(
        {("red", "circle"): 2}
    )
    assert caption_objects("a circle") == collections.Counter({(None, "circle"): 1})
    assert caption_objects("") == collections.Counter()
    scene = generate_scenes(1, seed=0).scenes[0]
    assert not names_objects_correctly("a large purple dog", scene)


def test_captions_of_a_three_shape_row():
    s = next(x for x in generate_scenes(60, seed=4).scenes if len(x.shapes) == 3)
    refs = captions(s)
    p = [x.phrase for x in s.shapes]
    order = "from left to right" if s.layout == "row" else "from top to bottom"
    assert refs[0] == f"{p[0]} {p[1]} and {p[2]} {order}"
    assert refs[2] == f"{order} there is {p[0]} {p[1]} and {p[2]}"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(split="dev"), "split must be one of"),
        (dict(max_shapes=4), "max_shapes must be 1, 2 or 3"),
        (dict(size=16), "size must be at least 24"),
        (dict(noise=-1.0), "noise must be >= 0"),
        (dict(background="stars"), "background must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_scenes(2, **kwargs)
