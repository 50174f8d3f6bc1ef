"""Parameter counts of the registered builders against the published figures.

Run ``python -m dltoolkit.models.summary`` to print the table.
"""

from __future__ import annotations

import math

import keras

from dltoolkit.models.registry import builder_info, list_builders


def count_trainable(model: keras.Model) -> int:
    """Trainable parameters (PyTorch's ``parameters()`` count)."""
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def parameter_table(names=None) -> list[dict]:
    """Builds each builder at its canonical size and counts its parameters.

    Args:
        names: builder names; default every registered builder with a
            ``canonical_input`` and ``canonical_classes``.

    Returns:
        One dict per builder: ``name``, ``input_shape``, ``num_classes``,
        ``params`` (all weights, as ``count_params()``), ``trainable``,
        ``published`` (or None), ``counts`` (what the published figure counts:
        ``"all"`` or ``"trainable"``) and ``ratio`` (our matching count over
        the published one, or None).
    """
    if names is None:
        names = [
            n
            for n in list_builders()
            if builder_info(n).canonical_input is not None
            and builder_info(n).canonical_classes is not None
        ]
    rows = []
    for name in names:
        info = builder_info(name)
        if info.canonical_input is None:
            raise ValueError(f"Builder {name!r} has no canonical_input to count at.")
        keras.backend.clear_session()
        model = info.fn(info.canonical_input, info.canonical_classes)
        params, trainable = model.count_params(), count_trainable(model)
        del model
        keras.backend.clear_session()
        ours = trainable if info.published_counts == "trainable" else params
        published = info.published_params
        rows.append(
            {
                "name": name,
                "input_shape": tuple(info.canonical_input),
                "num_classes": info.canonical_classes,
                "params": params,
                "trainable": trainable,
                "published": published,
                "counts": info.published_counts,
                "ratio": ours / published if published else None,
            }
        )
    return rows


def format_parameter_table(rows: list[dict]) -> str:
    """Formats :func:`parameter_table` rows as an aligned text table."""
    header = ("builder", "input", "classes", "params", "trainable", "published")
    header += ("counts", "ratio")
    lines = [header]
    for row in rows:
        published = row["published"]
        lines.append(
            (
                row["name"],
                "x".join(str(d) for d in row["input_shape"]),
                str(row["num_classes"]),
                f"{row['params']:,}",
                f"{row['trainable']:,}",
                "-" if published is None else f"{published:,}",
                row["counts"] if published is not None else "-",
                "-" if row["ratio"] is None else f"{row['ratio']:.4f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    left = {0, 1, 6}  # text columns; numbers align right

    def fmt(line):
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])])


if __name__ == "__main__":
    import dltoolkit.models  # noqa: F401  (fills the registry)

    print(format_parameter_table(parameter_table()))
