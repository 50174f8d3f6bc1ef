"""Captioning loaders: embedded scenes, a Flickr8k folder or TFDS ``coco_captions``.

:func:`load_captions` returns
:class:`~dltoolkit.data.captions.core.CaptionData` from the embedded scene
generator (:mod:`dltoolkit.data.captions.scenes`), a Flickr8k-layout folder or
a TFDS captioning dataset (:mod:`dltoolkit.data.captions.files`).
"""

from __future__ import annotations

from dltoolkit.data.captions.core import CaptionData, CaptionSplit
from dltoolkit.data.captions.files import load_flickr8k, load_tfds_captions
from dltoolkit.data.captions.scenes import digest, generate_scenes
from dltoolkit.errors import DataError


def load_scenes(
    sizes: tuple[int, int, int],
    *,
    seed: int = 0,
    image_size: int = 64,
    max_shapes: int = 3,
    background: str = "plain",
    noise: float = 0.0,
) -> CaptionData:
    """The embedded scene data: ``sizes`` = (train, val, test) image counts."""
    splits, seen = [], set()
    for name, count in zip(("train", "val", "test"), sizes):
        if count < 1:
            raise DataError(f"The {name} split needs at least one image.")
        s = generate_scenes(
            count,
            split=name,
            seed=seed,
            size=image_size,
            max_shapes=max_shapes,
            background=background,
            noise=noise,
            exclude=seen,
        )
        seen |= {digest(image) for image in s.images}
        splits.append(CaptionSplit(s.images, s.references, s.scenes))
    source = (
        f"embedded scenes ({image_size}x{image_size}, 1-{max_shapes} shapes, "
        f"{background} background, noise {noise:g}, seed {seed})"
    )
    return CaptionData(*splits, source=source)


def load_captions(
    source: str,
    *,
    sizes: tuple[int, int, int] = (8000, 500, 500),
    seed: int = 0,
    image_size: int = 64,
    max_shapes: int = 3,
    background: str = "plain",
    noise: float = 0.0,
    data_dir: str | None = None,
    max_images: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> CaptionData:
    """Dispatches ``embedded``, ``tfds:coco_captions`` or a Flickr8k folder."""
    if source == "embedded":
        return load_scenes(
            sizes,
            seed=seed,
            image_size=image_size,
            max_shapes=max_shapes,
            background=background,
            noise=noise,
        )
    if source.startswith("tfds:"):
        return load_tfds_captions(
            source[len("tfds:") :],
            data_dir=data_dir,
            max_images=max_images,
            image_size=image_size,
        )
    return load_flickr8k(
        source,
        seed=seed,
        max_images=max_images,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
