"""Embedded captioning data: scenes of colored shapes with true captions.

Each scene holds one to three shapes (:data:`SHAPES`) in :data:`COLORS` and
:data:`SIZES` at known positions on a dark background (optionally textured and
noisy). One shape is described with its place in the picture; two or three
shapes lie in a row or a column, and the captions state their order::

    a small red circle above a large blue square
    a large blue square below a small red circle
    there is a small red circle above a large blue square

Everything is drawn from ``numpy.random.default_rng([seed, split, index])``,
so a scene depends only on the seed, its split and its index, and growing a
split keeps its first scenes; each split draws from its own stream and skips
images identical to those of the splits before it (``exclude``). The
ground truth (:class:`Scene`) stays with the images for evaluation:
:func:`caption_objects` reads the ``(color, shape)`` pairs a caption names.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib

import numpy as np

SHAPES = ("circle", "square", "triangle", "diamond")
COLORS = {
    "red": (220, 45, 45),
    "green": (45, 175, 65),
    "blue": (55, 95, 235),
    "yellow": (235, 205, 40),
    "purple": (160, 70, 210),
}
# Radius as a share of the image side: three large shapes fit in one row.
SIZES = {"small": 0.085, "large": 0.15}
# Single shapes: the picture's 3x3 regions, (row, column) -> phrase.
REGIONS = {
    (0, 0): "at the top left",
    (0, 1): "at the top",
    (0, 2): "at the top right",
    (1, 0): "on the left",
    (1, 1): "in the middle",
    (1, 2): "on the right",
    (2, 0): "at the bottom left",
    (2, 1): "at the bottom",
    (2, 2): "at the bottom right",
}
SPLITS = ("train", "val", "test")
BACKGROUNDS = ("plain", "texture")
_BACKGROUND_LEVEL = 30  # dark gray: every color stands out


@dataclasses.dataclass(frozen=True)
class Shape:
    """One drawn shape: kind, color, size, center and radius in pixels."""

    shape: str
    color: str
    size: str
    x: float
    y: float
    radius: float

    @property
    def phrase(self) -> str:
        return f"a {self.size} {self.color} {self.shape}"


@dataclasses.dataclass(frozen=True)
class Scene:
    """The ground truth of one image.

    Attributes:
        shapes: the shapes in reading order (left to right, or top to
            bottom; a single shape alone).
        layout: ``"single"``, ``"row"`` (left to right) or ``"column"``
            (top to bottom).
        region: the (row, column) 3x3 region of a single shape, else None.
    """

    shapes: tuple[Shape, ...]
    layout: str
    region: tuple[int, int] | None = None

    @property
    def objects(self) -> collections.Counter:
        """The multiset of ``(color, shape)`` pairs in the image."""
        return collections.Counter((s.color, s.shape) for s in self.shapes)


def captions(scene: Scene) -> list[str]:
    """Three true captions of ``scene``, in different phrasings.

    The first phrasing is the one a model is most likely to settle on; the
    others name the shapes in reverse order or begin differently.
    """
    p = [s.phrase for s in scene.shapes]
    if scene.layout == "single":
        where = REGIONS[scene.region]
        return [
            f"{p[0]} {where}",
            f"there is {p[0]} {where}",
            f"{where} there is {p[0]}",
        ]
    forward, backward = {
        "row": ("to the left of", "to the right of"),
        "column": ("above", "below"),
    }[scene.layout]
    if len(p) == 2:
        return [
            f"{p[0]} {forward} {p[1]}",
            f"{p[1]} {backward} {p[0]}",
            f"there is {p[0]} {forward} {p[1]}",
        ]
    order, reverse = {
        "row": ("from left to right", "from right to left"),
        "column": ("from top to bottom", "from bottom to top"),
    }[scene.layout]
    return [
        f"{p[0]} {p[1]} and {p[2]} {order}",
        f"{p[2]} {p[1]} and {p[0]} {reverse}",
        f"{order} there is {p[0]} {p[1]} and {p[2]}",
    ]


def caption_objects(caption: str) -> collections.Counter:
    """The ``(color, shape)`` pairs a caption names, as a multiset.

    A shape word pairs with the nearest color word before it in the same
    noun phrase (since the last shape word); a shape without a color pairs
    with None, and so never matches a true object.
    """
    found = collections.Counter()
    color = None
    for word in caption.lower().split():
        if word in COLORS:
            color = word
        elif word in SHAPES:
            found[(color, word)] += 1
            color = None
    return found


def names_objects_correctly(caption: str, scene: Scene) -> bool:
    """True when the caption names every shape with its color, and no other."""
    return caption_objects(caption) == scene.objects


# === Drawing ===


def _coverage(shape: str, dx, dy, r):
    """Inside-mask of a shape centered at 0 with radius ``r``."""
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.86 * r
    if shape == "triangle":  # apex up, base 0.85 r below the center
        t = (dy + r) / (1.85 * r)
        return (t >= 0) & (t <= 1) & (np.abs(dx) <= 1.1 * r * t)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= 1.2 * r
    raise ValueError(f"Unknown shape {shape!r}. Valid shapes: {', '.join(SHAPES)}.")


def draw(scene: Scene, size: int, rng, *, background="plain", noise=0.0):
    """Renders ``scene`` as ``uint8 [size, size, 3]`` (2x2 supersampled edges)."""
    if background not in BACKGROUNDS:
        raise ValueError(
            f"background must be one of {BACKGROUNDS}. Received: {background!r}"
        )
    sub = (np.arange(2 * size) + 0.5) / 2  # subpixel centers
    ys, xs = np.meshgrid(sub, sub, indexing="ij")  # (2s, 2s)
    image = np.full((size, size, 3), float(_BACKGROUND_LEVEL))
    if background == "texture":
        angle, freq, phase = (
            rng.uniform(0, np.pi),
            rng.uniform(0.2, 0.6),
            rng.uniform(0, 2 * np.pi),
        )
        grid = np.arange(size) + 0.5
        gy, gx = np.meshgrid(grid, grid, indexing="ij")
        wave = np.sin(freq * (gx * np.cos(angle) + gy * np.sin(angle)) + phase)
        image += 18.0 * wave[..., None]
    for s in scene.shapes:
        inside = _coverage(s.shape, xs - s.x, ys - s.y, s.radius)
        cover = inside.reshape(size, 2, size, 2).mean(axis=(1, 3))[..., None]
        image = image * (1 - cover) + np.asarray(COLORS[s.color], float) * cover
    if noise > 0:
        image += rng.normal(0.0, noise, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _shape(rng, x: float, y: float, radius: float, size: str) -> Shape:
    return Shape(
        shape=str(rng.choice(SHAPES)),
        color=str(rng.choice(list(COLORS))),
        size=size,
        x=float(x),
        y=float(y),
        radius=float(radius),
    )


def random_scene(rng, size: int = 64, *, max_shapes: int = 3) -> Scene:
    """Draws the ground truth of one scene (no pixels)."""
    count = int(rng.integers(1, max_shapes + 1))
    sizes = [str(rng.choice(list(SIZES))) for _ in range(count)]
    radii = [SIZES[k] * size for k in sizes]
    if count == 1:
        row, col = int(rng.integers(3)), int(rng.integers(3))
        # The center anywhere in its cell, the shape inside the image.
        cell, r = size / 3, radii[0]

        def place(k):
            low, high = (
                max(k * cell + 0.5, r + 1),
                min((k + 1) * cell - 0.5, size - r - 1),
            )
            return rng.uniform(low, high)

        x, y = place(col), place(row)
        return Scene((_shape(rng, x, y, radii[0], sizes[0]),), "single", (row, col))
    layout = str(rng.choice(["row", "column"]))
    gap, margin = 0.04 * size, 0.02 * size
    free = size - 2 * margin - 2 * sum(radii) - gap * (count - 1)
    spare = rng.dirichlet(np.ones(count + 1)) * max(free, 0.0)
    along, pos = [], margin
    for i, r in enumerate(radii):
        pos += spare[i] + r
        along.append(pos)
        pos += r + gap
    # The other axis: one line with a little jitter, so the order is clear.
    big = max(radii)
    center = rng.uniform(big + margin + 2, size - big - margin - 2)
    across = center + rng.uniform(-0.05 * size, 0.05 * size, count)
    across = np.clip(across, big + margin, size - big - margin)
    shapes = []
    for a, c, r, k in zip(along, across, radii, sizes):
        x, y = (a, c) if layout == "row" else (c, a)
        shapes.append(_shape(rng, x, y, r, k))
    return Scene(tuple(shapes), layout)


@dataclasses.dataclass
class SceneSet:
    """One split of generated scenes.

    Attributes:
        images: ``uint8 [n, size, size, 3]``.
        references: three captions per image.
        scenes: the ground truth per image.
    """

    images: np.ndarray
    references: list[list[str]]
    scenes: list[Scene]


def generate_scenes(
    count: int,
    *,
    split: str = "train",
    seed: int = 0,
    size: int = 64,
    max_shapes: int = 3,
    background: str = "plain",
    noise: float = 0.0,
    exclude=None,
) -> SceneSet:
    """Generates ``count`` scenes of one split, deterministically.

    Args:
        count: number of images.
        split: ``train``, ``val`` or ``test``; each split draws from its own
            seed stream, so no image occurs in two splits.
        seed: the data seed.
        size: image side in pixels (at least 24).
        max_shapes: 1, 2 or 3 shapes at most per image.
        background: ``plain`` or ``texture`` (faint stripes).
        noise: standard deviation of Gaussian pixel noise (0-255 scale).
        exclude: image digests (:func:`digest`) to skip, e.g. those of the
            training split when drawing the test split: a scene whose pixels
            equal one of them is passed over (a simple scene, a single shape,
            can come out pixel for pixel the same).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: {split!r}")
    if max_shapes not in (1, 2, 3):
        raise ValueError(f"max_shapes must be 1, 2 or 3. Received: {max_shapes!r}")
    if size < 24:
        raise ValueError(f"size must be at least 24 pixels. Received: size={size}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0. Received: noise={noise}")
    split_id = SPLITS.index(split)
    exclude = set(exclude or ())
    images = np.zeros((count, size, size, 3), np.uint8)
    scenes, references = [], []
    i = 0
    while len(scenes) < count:
        rng = np.random.default_rng([seed, split_id, i])
        i += 1
        scene = random_scene(rng, size, max_shapes=max_shapes)
        image = draw(scene, size, rng, background=background, noise=noise)
        if exclude and digest(image) in exclude:
            continue
        images[len(scenes)] = image
        scenes.append(scene)
        references.append(captions(scene))
    return SceneSet(images, references, scenes)


def digest(image) -> str:
    """A hash of an image's pixels (to keep identical images out of two splits)."""
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()
