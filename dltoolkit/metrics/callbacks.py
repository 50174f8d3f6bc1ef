"""Keras callbacks that score decoded output during training."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras

from dltoolkit.metrics.bleu import corpus_bleu


class BleuCallback(keras.callbacks.Callback):
    """Decodes the validation sources each epoch and logs their corpus BLEU.

    The score enters the epoch's logs as ``name`` (default ``val_bleu``), so
    ``EarlyStopping(monitor="val_bleu", mode="max")``, ``ModelCheckpoint``,
    ``CSVLogger`` and keras-tuner objectives can use it. Place it before
    those callbacks in the list: callbacks see the logs in list order.

    Args:
        translate: ``translate(sources) -> list[str]``, decoding a list of
            source strings with the model being trained (for example greedy
            search through the model's step function).
        sources: validation source strings.
        references: one reference string per source, or sacreBLEU-style
            reference streams (a list of such lists).
        tokenize: BLEU tokenizer (see :func:`corpus_bleu`).
        name: the log key.
        every: score every ``every`` epochs (and always on the last one);
            other epochs repeat the last score so the key is always present.
        batch_size: sources per ``translate`` call.

    References:
        Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine
        Translation", ACL 2002. DSE 3151, "BLEU score".
    """

    def __init__(
        self,
        translate: Callable[[list[str]], Sequence[str]],
        sources: Sequence[str],
        references,
        *,
        tokenize: str = "13a",
        name: str = "val_bleu",
        every: int = 1,
        batch_size: int = 256,
    ):
        super().__init__()
        sources = list(sources)
        if references and isinstance(references[0], str):
            references = [list(references)]
        for stream in references:
            if len(stream) != len(sources):
                raise ValueError(
                    f"BleuCallback needs one reference per source: {len(sources)} "
                    f"sources, {len(stream)} references."
                )
        if every < 1 or batch_size < 1:
            raise ValueError(
                "every and batch_size must be >= 1. "
                f"Received: every={every}, batch_size={batch_size}"
            )
        self.translate = translate
        self.sources = sources
        self.references = [list(s) for s in references]
        self.tokenize = tokenize
        self.name = name
        self.every = every
        self.batch_size = batch_size
        self.last_score: float | None = None

    def score(self) -> float:
        """Decodes the sources now and returns their corpus BLEU."""
        hypotheses: list[str] = []
        for start in range(0, len(self.sources), self.batch_size):
            batch = self.sources[start : start + self.batch_size]
            outputs = list(self.translate(batch))
            if len(outputs) != len(batch):
                raise ValueError(
                    f"translate returned {len(outputs)} outputs for "
                    f"{len(batch)} sources."
                )
            hypotheses += [str(o) for o in outputs]
        return corpus_bleu(hypotheses, self.references, tokenize=self.tokenize).score

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        last = self.params.get("epochs") if self.params else None
        due = (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last)
        if due or self.last_score is None:
            self.last_score = self.score()
        logs[self.name] = self.last_score
