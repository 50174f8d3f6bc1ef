"""Translation on a real pairs file: the translation app's ``real`` profile
against the two Keras example recipes for English-Spanish, trained side by
side for the same wall-clock budget on one split.

    .venv/bin/python bench/translation.py --data PATH/spa.txt
                                          [--profile real] [--set KEY=VALUE ...]
                                          [--budget SECONDS] [--run-dir DIR]
                                          [--threads T] [--force]
                                          [--out FILE.json] [--smoke]

One split for everyone: the app's loader with ``data=PATH`` (pairs grouped
by English sentence, the profile's validation and test shares: 5% and 2%
for ``real``, seed 0; a test pair whose
English sentence or Spanish translation occurs in training is not scored).
Every contender trains on the training part and translates the test
sources; sacreBLEU and chrF score its output against the references (one
reference a pair, case-sensitive, sacreBLEU's 13a tokenization), and the
table shows each contender's training seconds.

- ``dltoolkit real``: ``python -m apps.translation train --profile real``
  through the app, scored through its exported SavedModel on the raw test
  sentences; its seconds are the run's ``train_seconds``. The budget of the
  peers is that figure unless ``--budget`` sets one.
- ``Keras seq2seq Transformer``: the recipe of the Keras example
  "English-to-Spanish translation with a sequence-to-sequence Transformer"
  (fchollet, https://keras.io/examples/nlp/neural_machine_translation_with_transformer/),
  written here from its description: TextVectorization vocabularies of
  15,000 tokens per language (English: lowercased, punctuation stripped;
  Spanish: the same, ``[start]``/``[end]`` kept), 20 tokens a side, batches
  of 64; learned position embeddings, one post-norm encoder and one decoder
  layer (embedding 256, feed-forward 2,048, 8 heads of key size 256),
  dropout 0.5 before the softmax; RMSprop at its default rate, sparse
  cross-entropy ignoring padding; greedy decoding of at most 20 tokens,
  stopping at ``[end]``. Its output is lowercased and unpunctuated, as the
  example's is; the JSON also holds its BLEU with case and punctuation
  ignored on both sides (``bleu_lowercase_nopunct``), and the ratio of ours
  to the best peer on that score beside the case-sensitive one.
- ``KerasHub seq2seq``: the recipe of the Keras example "English-Spanish
  translation with KerasHub" (Abheesht Sharma,
  https://keras.io/examples/nlp/neural_machine_translation_with_keras_hub/):
  lowercased text, WordPiece vocabularies of 15,000 per language computed
  with ``keras_hub.tokenizers.compute_word_piece_vocabulary`` (reserved
  ``[PAD] [UNK] [START] [END]``), 40 tokens a side packed by
  ``StartEndPacker``, batches of 64; ``TokenAndPositionEmbedding``, one
  ``TransformerEncoder`` and one ``TransformerDecoder`` (256 / 2,048 / 8
  heads), dropout 0.5 before the softmax; RMSprop, sparse cross-entropy;
  ``GreedySampler`` decoding. Its output is lowercased, as the example's is
  (``bleu_lowercase`` in the JSON ignores case on both sides).

Both peers train in epochs over the shuffled training pairs until the budget
is spent (checked after every batch), as many epochs as fit; their
vocabulary building is not counted, as the app's subword training is not.
Threads are pinned equally (``bench/_harness.py``); the JSON goes to
``bench/results/translation.json`` or ``--out``. ``--ours-from RUN_DIR``
scores a finished ``real`` run (its split, its ``train_seconds`` as the
budget, its export) instead of training ours again: the peers' side of a
run whose own side was measured on an idle machine before. ``--smoke`` writes a tiny
pairs file itself and runs everything at toy sizes (the ``smoke`` profile).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

# The Keras examples' published sizes, and the smoke run's.
KERAS = dict(vocab=15000, length=20, batch=64, embed=256, latent=2048, heads=8)
HUB = dict(vocab=15000, length=40, batch=64, embed=256, latent=2048, heads=8)
SMOKE = dict(vocab=300, embed=32, latent=64, heads=2)
SMOKE_BUDGET = 4.0


def write_smoke_pairs(path: Path, count: int = 400, seed: int = 0) -> Path:
    """A tiny English-Spanish pairs file with names (Tatoeba layout)."""
    rng = random.Random(seed)
    names = ["Tom", "Mary", "Ken", "Alice"]
    verbs = [
        ("is happy", "está feliz"),
        ("is tired", "está cansado"),
        ("eats bread", "come pan"),
        ("reads a book", "lee un libro"),
        ("runs fast", "corre rápido"),
    ]
    lines = []
    for _ in range(count):
        name, (english, spanish) = rng.choice(names), rng.choice(verbs)
        extra = rng.choice(["", " today", " now"])
        extra_es = {"": "", " today": " hoy", " now": " ahora"}[extra]
        lines.append(f"{name} {english}{extra}.\t{name} {spanish}{extra_es}.\tCC-BY")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Budget:
    """A Keras callback that stops training once ``seconds`` have passed."""

    def __new__(cls, seconds: float):
        import keras

        class _Budget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start = time.perf_counter()
                self.steps = 0

            def on_train_batch_end(self, batch, logs=None):
                self.steps += 1
                if time.perf_counter() - self.start >= seconds:
                    self.model.stop_training = True

        return _Budget()


def _fit_for(model, train, seconds: float) -> dict:
    """Epochs of ``train`` until ``seconds`` are spent; the time and steps."""
    budget = Budget(seconds)
    start = time.perf_counter()
    history = model.fit(train, epochs=10_000, callbacks=[budget], verbose=0)
    return {
        "seconds": time.perf_counter() - start,
        "steps": budget.steps,
        "epochs_started": len(history.epoch),
        "final_loss": float(history.history["loss"][-1]),
    }


# === dltoolkit ===


def run_ours(config, profile, run_dir: Path, sources, trained=False) -> dict:
    """Trains ``config`` in ``run_dir`` (or, ``trained``, reads the finished
    run there); scores its export on ``sources``."""
    from dltoolkit.apps.translation.app import APP
    from dltoolkit.training.export import load_export

    if trained:
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
        wall, serve = None, load_export(Path(run_dir) / "export")
    else:
        metrics, wall, serve = _harness.train_through_app(APP, config, profile, run_dir)
    tf = sys.modules["tensorflow"]
    start = time.perf_counter()
    hyps = []
    for i in range(0, len(sources), 256):
        out = serve(sentences=tf.constant(sources[i : i + 256]))["translation"]
        hyps += [t.decode("utf-8") for t in out.numpy()]
    return {
        "hypotheses": hyps,
        "seconds": metrics["train_seconds"],
        "test_seconds": time.perf_counter() - start,
        "wall_seconds": None if wall is None else round(wall, 1),
        "epochs": metrics["epochs"],
        "app_bleu": metrics["bleu"],  # the app's own figure, in process
    }


# === The Keras example ===

_STRIP = string.punctuation + "¿"
_STRIP_SPA = _STRIP.replace("[", "").replace("]", "")


def keras_example_model(sizes, source_vocab: int, vocab: int, length: int):
    import keras
    from keras import layers, ops

    class PositionalEmbedding(layers.Layer):
        def __init__(self, vocab, **kwargs):
            super().__init__(**kwargs)
            self.tokens = layers.Embedding(vocab, sizes["embed"])
            self.positions = layers.Embedding(length, sizes["embed"])

        def call(self, ids):
            positions = ops.arange(ops.shape(ids)[-1])
            return self.tokens(ids) + self.positions(positions)[None]

    def attention():
        return layers.MultiHeadAttention(sizes["heads"], key_dim=sizes["embed"])

    def ffn():
        return keras.Sequential(
            [
                layers.Dense(sizes["latent"], activation="relu"),
                layers.Dense(sizes["embed"]),
            ]
        )

    source = keras.Input((length,), dtype="int32", name="encoder_inputs")
    target = keras.Input((length,), dtype="int32", name="decoder_inputs")
    source_mask = ops.not_equal(source, 0)
    target_mask = ops.not_equal(target, 0)
    x = PositionalEmbedding(source_vocab)(source)
    a = attention()(x, x, attention_mask=source_mask[:, None, :])
    x = layers.LayerNormalization()(x + a)
    encoded = layers.LayerNormalization()(x + ffn()(x))
    y = PositionalEmbedding(vocab)(target)
    a = attention()(y, y, use_causal_mask=True)
    y = layers.LayerNormalization()(y + a)
    a = attention()(y, encoded, attention_mask=source_mask[:, None, :])
    y = layers.LayerNormalization()(y + a)
    y = layers.LayerNormalization()(y + ffn()(y))
    y = layers.Dropout(0.5)(y)
    outputs = layers.Dense(vocab, activation="softmax")(y)
    del target_mask  # the loss ignores padding labels
    model = keras.Model([source, target], outputs, name="keras_seq2seq_transformer")
    model.compile(
        "rmsprop",
        keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
        metrics=["accuracy"],
    )
    return model


def run_keras_example(train_pairs, sources, seconds: float, smoke=False) -> dict:
    import keras
    import numpy as np

    tf = sys.modules["tensorflow"]
    sizes = {**KERAS, **(SMOKE if smoke else {})}
    length = sizes["length"]

    def spanish_standardize(text):
        text = tf.strings.lower(text)
        return tf.strings.regex_replace(text, f"[{re.escape(_STRIP_SPA)}]", "")

    eng = keras.layers.TextVectorization(
        sizes["vocab"], output_mode="int", output_sequence_length=length
    )
    spa = keras.layers.TextVectorization(
        sizes["vocab"],
        output_mode="int",
        output_sequence_length=length + 1,
        standardize=spanish_standardize,
    )
    english = [e for e, _ in train_pairs]
    spanish = [f"[start] {s} [end]" for _, s in train_pairs]
    start = time.perf_counter()
    eng.adapt(english)
    spa.adapt(spanish)
    vocab_seconds = time.perf_counter() - start

    def format_batch(e, s):
        e, s = eng(e), spa(s)
        return {"encoder_inputs": e, "decoder_inputs": s[:, :-1]}, s[:, 1:]

    train = (
        tf.data.Dataset.from_tensor_slices((english, spanish))
        .batch(sizes["batch"])
        .map(format_batch)
        .cache()
        .shuffle(2048)
        .prefetch(16)
    )
    model = keras_example_model(
        sizes, eng.vocabulary_size(), spa.vocabulary_size(), length
    )
    fit = _fit_for(model, train, seconds)
    # Greedy decoding as the example's loop does it, a batch at a time.
    words = np.array(spa.get_vocabulary())
    start_id = int(np.flatnonzero(words == "[start]")[0])
    end_id = int(np.flatnonzero(words == "[end]")[0])
    start = time.perf_counter()
    hyps = []
    step = tf.function(lambda e, d: model([e, d], training=False))
    for i in range(0, len(sources), 256):
        e = eng(tf.constant(sources[i : i + 256]))
        # [start] and up to 20 tokens; the model reads the first 20.
        ids = np.zeros((e.shape[0], length + 1), np.int32)
        ids[:, 0] = start_id
        done = np.zeros(e.shape[0], bool)
        for t in range(length):
            probs = step(e, tf.constant(ids[:, :length])).numpy()[:, t]
            token = probs.argmax(axis=-1)
            ids[:, t + 1] = np.where(done, 0, token)
            done |= token == end_id
            if done.all():
                break
        for row in ids:
            out = []
            for token in row[1:]:
                if token in (0, end_id):
                    break
                out.append(words[token])
            hyps.append(" ".join(out))
    return {
        "hypotheses": hyps,
        **fit,
        "vocab_seconds": vocab_seconds,
        "test_seconds": time.perf_counter() - start,
        "parameters": model.count_params(),
        "lowercase_nopunct": True,
    }


# === The KerasHub example ===


def run_kerashub_example(train_pairs, sources, seconds: float, smoke=False) -> dict:
    import keras
    import keras_hub

    tf = sys.modules["tensorflow"]
    sizes = {**HUB, **(SMOKE if smoke else {})}
    length = sizes["length"]
    reserved = ["[PAD]", "[UNK]", "[START]", "[END]"]
    english = [e.lower() for e, _ in train_pairs]
    spanish = [s.lower() for _, s in train_pairs]
    start = time.perf_counter()
    vocabs = [
        keras_hub.tokenizers.compute_word_piece_vocabulary(
            tf.data.Dataset.from_tensor_slices(texts).batch(1000).prefetch(2),
            vocabulary_size=sizes["vocab"],
            reserved_tokens=reserved,
        )
        for texts in (english, spanish)
    ]
    vocab_seconds = time.perf_counter() - start
    eng_tok, spa_tok = (
        keras_hub.tokenizers.WordPieceTokenizer(vocabulary=v, lowercase=False)
        for v in vocabs
    )
    start_id, end_id, pad_id = (
        spa_tok.token_to_id(t) for t in reserved[2:] + reserved[:1]
    )
    eng_pack = keras_hub.layers.StartEndPacker(
        sequence_length=length, pad_value=eng_tok.token_to_id("[PAD]")
    )
    spa_pack = keras_hub.layers.StartEndPacker(
        sequence_length=length + 1,
        start_value=start_id,
        end_value=end_id,
        pad_value=pad_id,
    )

    def format_batch(e, s):
        e, s = eng_pack(eng_tok(e)), spa_pack(spa_tok(s))
        return {"encoder_inputs": e, "decoder_inputs": s[:, :-1]}, s[:, 1:]

    train = (
        tf.data.Dataset.from_tensor_slices((english, spanish))
        .batch(sizes["batch"])
        .map(format_batch, num_parallel_calls=tf.data.AUTOTUNE)
        .shuffle(2048)
        .prefetch(16)
        .cache()
    )
    source = keras.Input((None,), dtype="int32", name="encoder_inputs")
    target = keras.Input((None,), dtype="int32", name="decoder_inputs")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        eng_tok.vocabulary_size(), length, sizes["embed"]
    )(source)
    encoded = keras_hub.layers.TransformerEncoder(sizes["latent"], sizes["heads"])(x)
    y = keras_hub.layers.TokenAndPositionEmbedding(
        spa_tok.vocabulary_size(), length, sizes["embed"]
    )(target)
    y = keras_hub.layers.TransformerDecoder(sizes["latent"], sizes["heads"])(
        decoder_sequence=y, encoder_sequence=encoded
    )
    y = keras.layers.Dropout(0.5)(y)
    outputs = keras.layers.Dense(spa_tok.vocabulary_size(), activation="softmax")(y)
    model = keras.Model([source, target], outputs, name="kerashub_seq2seq")
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = _fit_for(model, train, seconds)

    sampler = keras_hub.samplers.GreedySampler()
    start = time.perf_counter()
    hyps = []
    for i in range(0, len(sources), 256):
        batch = [s.lower() for s in sources[i : i + 256]]
        encoder_ids = eng_pack(eng_tok(tf.constant(batch)))
        prompt = tf.concat(
            [
                tf.fill([len(batch), 1], start_id),
                tf.fill([len(batch), length - 1], pad_id),
            ],
            axis=1,
        )

        def next_fn(prompt, cache, index, encoder_ids=encoder_ids):
            probs = model([encoder_ids, prompt], training=False)[:, index - 1, :]
            return probs, None, cache

        ids = sampler(next_fn, prompt, stop_token_ids=[end_id], index=1)
        texts = spa_tok.detokenize(ids)
        texts = texts.numpy() if hasattr(texts, "numpy") else texts
        for text in texts:
            text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
            for token in ("[PAD]", "[START]", "[END]"):
                text = text.replace(token, "")
            hyps.append(" ".join(text.split()))
    return {
        "hypotheses": hyps,
        **fit,
        "vocab_seconds": vocab_seconds,
        "test_seconds": time.perf_counter() - start,
        "parameters": model.count_params(),
        "lowercase": True,
    }


# === Scoring and main ===


def _finished_config(run_dir, data_path, profile):
    """The config of a finished run, checked against ``--data``/``--profile``:
    the split is remade from it, so the peers see the run's own split."""
    from dltoolkit.apps.translation.app import APP
    from dltoolkit.errors import ConfigError
    from dltoolkit.training.config import load_config

    run_dir = Path(run_dir)
    config = load_config(APP.config_cls, run_dir / "config.json")
    saved = json.loads((run_dir / "config.json").read_text())
    if not (run_dir / "metrics.json").is_file():
        raise ConfigError(f"{run_dir} holds no finished run (no metrics.json).")
    if Path(config.data).resolve() != Path(data_path).resolve():
        raise ConfigError(
            f"{run_dir} was trained on {config.data}, not on --data {data_path}."
        )
    if saved.get("profile") not in (None, profile):
        raise ConfigError(
            f"{run_dir} ran profile {saved.get('profile')}, not {profile}."
        )
    return config


PEER_NAMES = {"keras": "Keras seq2seq Transformer", "kerashub": "KerasHub seq2seq"}


def _earlier_results(path):
    """The earlier results file for ``--add-to``, or None after a message."""
    try:
        earlier = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        print(f"error: --add-to {path}: {err}", file=sys.stderr)
        return None
    missing = {"rows", "split", "profile", "budget_seconds", "samples"} - set(earlier)
    if missing:
        print(
            f"error: --add-to {path} is not a translation bench result "
            f"(no {', '.join(sorted(missing))})",
            file=sys.stderr,
        )
        return None
    return earlier


_ROW_KEYS = (
    "seconds",
    "test_seconds",
    "bleu",
    "chrf",
    "bleu_lowercase",
    "bleu_lowercase_nopunct",
)


def _check_earlier(earlier, args, run, data, config, samples, peers) -> bool:
    """Rows are comparable only from one setting: the same profile, overrides
    and smoke mode, the same split (sizes, seed and first pairs), ours' row
    and the budget of the kept peers; and, since equal seconds are equal work
    only on one kind of CPU, the same CPU model, cores and threads unless
    ``--allow-other-cpu`` (then recorded). Returns whether the CPU matched;
    raises ConfigError before any training otherwise."""
    from dltoolkit.errors import ConfigError

    def refuse(what):
        raise ConfigError(f"the --add-to results {what}.")

    profile = _harness.profile(args)
    if earlier["profile"] != profile:
        refuse(f"ran profile {earlier['profile']}, not {profile}")
    if bool(earlier.get("smoke")) != bool(args.smoke):
        refuse(f"have smoke={bool(earlier.get('smoke'))}, this run {args.smoke}")
    overrides = _harness.shown(args.overrides)  # as the results file holds them
    if list(earlier.get("overrides") or []) != overrides:
        refuse(f"ran with --set {earlier.get('overrides')}, not {overrides}")
    now = {**data.sizes, "seed": config.seed}
    before = {k: earlier["split"].get(k) for k in now}
    first = {k: earlier["samples"].get(k) for k in ("source", "reference")}
    if before != now or first != samples:
        refuse(
            f"were measured on another split: {before}, this data gives {now}"
            + ("" if before != now else " (other pairs)")
        )
    ours = f"dltoolkit {profile}"
    if ours not in earlier["rows"]:
        refuse(f"hold no row {ours!r}")
    retrained = {PEER_NAMES[p] for p in peers}
    for name, row in earlier["rows"].items():
        lacking = [k for k in _ROW_KEYS if k not in row]
        if lacking and name not in retrained:
            refuse(f"row {name!r} lacks {', '.join(lacking)}")
    kept_peers = set(earlier["rows"]) - retrained - {ours}
    if kept_peers and args.budget and args.budget != earlier["budget_seconds"]:
        refuse(
            f"kept peers trained for {earlier['budget_seconds']} s, "
            f"not --budget {args.budget}"
        )

    keys = ("cpu_model", "usable_cpus")
    here = {k: _harness.machine()[k] for k in keys}
    here["threads"] = run.thread_settings()["threads"]
    kept = earlier.get("kept_from_earlier") or {}
    threads = (earlier.get("thread_settings") or {}).get("threads")
    places = [{**(earlier.get("machine") or {}), "threads": threads}]
    if kept:  # rows the earlier file itself kept: their threads were not recorded
        places.append({**(kept.get("machine") or {}), "threads": here["threads"]})
    for where in places:
        there = {k: where.get(k) for k in here}
        if there != here or kept.get("same_machine") is False:
            if not args.allow_other_cpu:
                refuse(
                    f"were measured on another machine ({there}; this one is "
                    f"{here}): equal seconds would not be equal work; "
                    "--allow-other-cpu adds the rows anyway (recorded)"
                )
            print(f"[bench] WARNING: kept rows ran on {there}, this run on {here}")
            return False
    return True


def _nopunct(texts):
    table = str.maketrans("", "", _STRIP + "¡")
    return [" ".join(t.lower().translate(table).split()) for t in texts]


def score(hyps, refs) -> dict:
    """sacreBLEU's BLEU and chrF (case-sensitive), and BLEU ignoring case and
    (``_nopunct``) punctuation on both sides."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, lower = BLEU(), BLEU(lowercase=True)
    result = bleu.corpus_score(hyps, [refs])
    return {
        "bleu": round(result.score, 2),
        "chrf": round(CHRF().corpus_score(hyps, [refs]).score, 2),
        "bleu_lowercase": round(lower.corpus_score(hyps, [refs]).score, 2),
        "bleu_lowercase_nopunct": round(
            bleu.corpus_score(_nopunct(hyps), [_nopunct(refs)]).score, 2
        ),
        "bleu_signature": str(bleu.get_signature()),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _harness.add_app_arguments(parser, "a Tatoeba/Anki pairs file (spa.txt)")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="the peers' training seconds (default: ours' train_seconds)",
    )
    parser.add_argument(
        "--ours-from",
        default=None,
        metavar="RUN_DIR",
        help="score this finished run of the app (its config, split, "
        "train_seconds and export) instead of training ours again",
    )
    parser.add_argument(
        "--add-to",
        default=None,
        metavar="RESULTS_JSON",
        help="keep the rows of this earlier results file of the same profile, "
        "split and CPU (ours included, and its budget unless --budget is given) "
        "and train only --peers beside them",
    )
    parser.add_argument(
        "--allow-other-cpu",
        action="store_true",
        help="with --add-to: keep rows measured on another CPU model, core "
        "or thread count (the JSON records same_machine: false)",
    )
    parser.add_argument(
        "--peers",
        default="keras,kerashub",
        help="comma-separated: keras, kerashub (default both)",
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.data is None and not args.smoke:
        parser.error("--data PATH (a pairs file) is required")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if not peers or set(peers) - set(PEER_NAMES):
        parser.error(f"--peers: choose from {', '.join(PEER_NAMES)}")
    new = {PEER_NAMES[p] for p in peers}  # the rows this run trains
    if args.add_to and (args.ours_from or args.run_dir):
        parser.error("--add-to keeps ours' row: no --ours-from or --run-dir")
    earlier = _earlier_results(args.add_to) if args.add_to else None
    if args.add_to and earlier is None:
        return 2
    profile = _harness.profile(args)
    run = _harness.Run("translation", args)
    tf = run.tensorflow()
    tf.keras.utils.set_random_seed(0)

    from dltoolkit.apps.translation.app import APP
    from dltoolkit.errors import UserError

    scratch = Path(tempfile.mkdtemp(prefix="bench-translation-"))
    try:
        data_path = args.data or str(write_smoke_pairs(scratch / "pairs.txt"))
        overrides = [f"data={data_path}", *args.overrides]
        same_machine = True
        try:
            if args.ours_from:
                config = _finished_config(args.ours_from, data_path, profile)
            else:
                config = APP.resolve(profile, overrides)
            data = APP.load_data(config)
            if earlier is not None:
                first = {
                    "source": [s for s, _ in data.test][:8],
                    "reference": [t for _, t in data.test][:8],
                }
                same_machine = _check_earlier(
                    earlier, args, run, data, config, first, peers
                )
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        sources = [s for s, _ in data.test]
        refs = [t for _, t in data.test]
        print(f"[bench] data: {data.source}; {data.sizes}; {data.splits}")
        run.print_threads()

        rows = {}
        run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
        ours_name = f"dltoolkit {profile}"
        if earlier is not None:
            # The earlier rows stay as scored; the peers asked for are new.
            rows = {k: v for k, v in earlier["rows"].items() if k not in new}
            budget = args.budget or earlier["budget_seconds"]
            print(f"[bench] kept from {args.add_to}: {', '.join(rows)}")
        else:
            if args.ours_from:
                run_dir = Path(args.ours_from)
            rows[ours_name] = run_ours(
                config, profile, run_dir, sources, trained=bool(args.ours_from)
            )
            budget = args.budget or rows[ours_name]["seconds"]
        if args.smoke:
            budget = min(budget, SMOKE_BUDGET)
        if "keras" in peers:
            print(f"[bench] Keras example: {budget:.0f} s", flush=True)
            rows[PEER_NAMES["keras"]] = run_keras_example(
                data.train, sources, budget, args.smoke
            )
        if "kerashub" in peers:
            print(f"[bench] KerasHub example: {budget:.0f} s", flush=True)
            rows[PEER_NAMES["kerashub"]] = run_kerashub_example(
                data.train, sources, budget, args.smoke
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    samples = {}
    if earlier is not None:
        samples = {k: v for k, v in earlier["samples"].items() if k in rows}
    for row_name, row in rows.items():
        if "hypotheses" not in row:  # kept from --add-to, scored there
            continue
        hyps = row.pop("hypotheses")
        row.update(score(hyps, refs))
        samples[row_name] = hyps[:8]
    peers_rows = {k: v for k, v in rows.items() if k != ours_name}
    best_name = max(peers_rows, key=lambda k: peers_rows[k]["bleu"])
    best = peers_rows[best_name]
    ours = rows[ours_name]
    ratio = ours["bleu"] / best["bleu"] if best["bleu"] else None
    # The peers' recipes lowercase (and the Keras one strips punctuation):
    # the ratio with case and punctuation ignored on both sides, too.
    key = "bleu_lowercase_nopunct"
    best_plain = max(rows[n][key] for n in peers_rows)
    ratio_plain = ours[key] / best_plain if best_plain else None
    print(
        "\n| contender | BLEU | chrF | BLEU lowercased | train seconds | "
        "test seconds |\n|---|---|---|---|---|---|"
    )
    for row_name, row in rows.items():
        print(
            f"| {row_name} | {row['bleu']:.2f} | {row['chrf']:.2f} | "
            f"{row['bleu_lowercase']:.2f} | {row['seconds']:.0f} | "
            f"{row['test_seconds']:.0f} |"
        )
    shown = f"{ratio:.2f}x" if ratio is not None else "n/a (the peer scored 0)"
    print(f"[bench] ours / best peer ({best_name}): BLEU {shown}")
    if ratio_plain is not None:
        print(
            "[bench] ours / best peer, case and punctuation ignored: "
            f"BLEU {ratio_plain:.2f}x"
        )
    run.write(
        {
            "data": f"pairs file {Path(data_path).name}",
            "split": {**data.sizes, "how": data.splits, "seed": config.seed},
            "profile": profile,
            "overrides": _harness.shown(args.overrides),
            "ours_from": bool(
                args.ours_from if earlier is None else earlier.get("ours_from")
            ),
            "kept_from_earlier": None
            if earlier is None
            else {
                "rows": [k for k in earlier["rows"] if k in rows and k not in new],
                "date_utc": earlier.get("date_utc"),
                "git": (earlier.get("machine") or {}).get("git"),
                "load": earlier.get("load"),
                "machine": earlier.get("machine"),
                "same_machine": same_machine,
                "kept_from_earlier": earlier.get("kept_from_earlier"),
            },
            "budget_seconds": round(budget, 1),
            "best_peer": best_name,
            "ours_over_best_peer_bleu": None if ratio is None else round(ratio, 3),
            "ours_over_best_peer_bleu_lowercase_nopunct": (
                None if ratio_plain is None else round(ratio_plain, 3)
            ),
            "rows": rows,
            "samples": {"source": sources[:8], "reference": refs[:8], **samples},
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
