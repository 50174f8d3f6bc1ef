"""The hybrid acoustic model and the in-graph recognizer of the ASR app.

The network predicts the acoustic state of every frame: an MLP over spliced
frames (``dltoolkit.models`` ``mlp``; ``acoustic=mlp``) sees a window of
``2 * context + 1`` frames around the one it labels; a bidirectional GRU
(``rnn``; ``acoustic=bigru``) reads the whole utterance and labels each of
its frames. Its log-posteriors minus the log state priors are scaled
likelihoods ``log p(x|s) + const`` that replace the GMM scores in the
decoding graph (Bourlard & Morgan's hybrid NN/HMM; a recurrent acoustic
model as in Graves et al.'s hybrid BLSTM).

References:
    Bourlard, H. and Morgan, N. (1994). Connectionist Speech Recognition: A
    Hybrid Approach. Kluwer. DSE 3151, "Automatic Speech Recognition".
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.audio.features import compute_features
from dltoolkit.hmm.graph import DecodingGraph, path_words, viterbi_beam
from dltoolkit.models import get_builder

WAVEFORM = "waveform"
MIN_SAMPLES = 1600  # 0.1 s at 16 kHz
# Input whose peak stays below this (-60 dBFS) is silence: an empty transcript.
# (Per-utterance CMVN would otherwise stretch its faint noise to speech level.)
SILENCE_PEAK = 1e-3
_EPS = 1e-8


def splice(features, context: int):
    """``(T, D)`` -> ``(T, 2 * context + 1, D)``: each frame with its neighbours
    (edges repeat the first and last frames)."""
    features = tf.convert_to_tensor(features)
    padded = tf.concat(
        [
            tf.repeat(features[:1], context, axis=0),
            features,
            tf.repeat(features[-1:], context, axis=0),
        ],
        axis=0,
    )
    return tf.signal.frame(padded, 2 * context + 1, 1, axis=0)


ACOUSTIC_MODELS = ("mlp", "bigru")


def is_sequence_model(config) -> bool:
    """Whether ``config``'s network reads whole utterances (not windows)."""
    return config.acoustic == "bigru"


def build_hybrid(config, feature_dim: int, n_states: int):
    """The frame classifier: acoustic state posteriors of frames.

    ``acoustic=mlp``: ``(batch, 2 * context + 1, D)`` spliced windows ->
    ``(batch, n_states)``, the centre frame's. ``acoustic=bigru``:
    ``(batch, T, D)`` utterances -> ``(batch, T, n_states)``, every frame's,
    from ``rnn_layers`` bidirectional GRU layers of ``rnn_units`` each way
    (``dropout`` on each layer's input).

    With ``config.input_noise`` > 0, Gaussian noise of that standard
    deviation is added to the (CMVN-normalized) input frames in training
    only, a regularizer against the synthetic voices' exact spectra.

    With ``config.ensemble`` = N > 1, N such networks (``member_0`` ...,
    each with its own initial weights, dropout and noise) read the same
    input side by side, and the model returns their posteriors stacked on
    the last axis but one: ``(batch, N, n_states)`` or
    ``(batch, T, N, n_states)``. :class:`MemberCrossEntropy` trains each on
    the labels; :func:`mean_posteriors` combines them.
    """
    if config.ensemble == 1:
        return _network(config, feature_dim, n_states, "hybrid")
    if is_sequence_model(config):
        shape, member_shape = (None, feature_dim), (-1, 1, n_states)
    else:
        shape, member_shape = (2 * config.context + 1, feature_dim), (1, n_states)
    frames = keras.Input(shape, name="frames")
    # float32 like each network's softmax (a mixed precision policy would
    # otherwise cast the stacked posteriors down).
    members = [
        keras.layers.Reshape(member_shape, dtype="float32", name=f"member_{i}_axis")(
            _network(config, feature_dim, n_states, f"member_{i}")(frames)
        )
        for i in range(config.ensemble)
    ]
    stacked = keras.layers.Concatenate(axis=-2, dtype="float32", name="members")(
        members
    )
    return keras.Model(frames, stacked, name="hybrid")


def _network(config, feature_dim: int, n_states: int, name: str):
    """One network of :func:`build_hybrid` (input noise included)."""
    if is_sequence_model(config):
        shape = (None, feature_dim)
        net = get_builder("rnn")(
            shape,
            n_states,
            cell="gru",
            units=config.rnn_units,
            num_layers=config.rnn_layers,
            bidirectional=True,
            head="many_to_many",
            dropout=config.dropout,
            name=name,
        )
    else:
        shape = (2 * config.context + 1, feature_dim)
        net = get_builder("mlp")(
            shape,
            n_states,
            hidden_units=tuple(config.hidden_units),
            dropout=config.dropout,
            batch_norm=config.batch_norm,
            name=name,
        )
    if not config.input_noise:
        return net
    frames = keras.Input(shape, name="frames")
    noisy = keras.layers.GaussianNoise(config.input_noise, name="input_noise")(frames)
    return keras.Model(frames, net(noisy), name=name)


def mean_posteriors(posteriors):
    """An ensemble's posteriors ``(..., N, A)`` averaged over its N members."""
    return keras.ops.mean(posteriors, axis=-2)


@keras.saving.register_keras_serializable(package="dltoolkit")
class MemberCrossEntropy(keras.losses.Loss):
    """Sparse cross-entropy of each member of an ensemble, averaged.

    ``y_true``: states ``(...)``; ``y_pred``: posteriors ``(..., N, A)`` of N
    members (:func:`build_hybrid`). Every member learns the labels on its
    own (the loss of their averaged posteriors would let them lean on each
    other).
    """

    def __init__(self, name="member_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ops = keras.ops
        labels = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        labels = ops.broadcast_to(labels, ops.shape(y_pred)[:-1])
        losses = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
        return ops.mean(losses, axis=-1)


@keras.saving.register_keras_serializable(package="dltoolkit")
class EnsembleAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Frame accuracy of an ensemble's averaged posteriors."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(y_true, mean_posteriors(y_pred), sample_weight)


def log_priors(alignments, n_states: int) -> np.ndarray:
    """``log P(s)`` from aligned frame counts (add-one smoothed)."""
    counts = np.bincount(np.concatenate(alignments), minlength=n_states) + 1.0
    return np.log(counts / counts.sum()).astype(np.float32)


class GaussianScores(tf.Module):
    """``log p(x_t | s)`` of diagonal-covariance GMM states, in TensorFlow.

    The log-density of every component is one matrix product over the
    features and their squares: ``-x^2 / (2 var) + x mu / var + c``.

    Args:
        emissions: a :class:`~dltoolkit.hmm.GMMEmissions`.
    """

    def __init__(self, emissions):
        super().__init__(name="gaussian_scores")
        n, k, d = emissions.means.shape
        means = emissions.means.reshape(n * k, d)
        precision = 1.0 / emissions.covars.reshape(n * k, d)
        with np.errstate(divide="ignore"):
            log_w = np.log(emissions.weights).reshape(n * k)
        const = log_w - 0.5 * (
            d * np.log(2 * np.pi)
            - np.log(precision).sum(1)
            + (means**2 * precision).sum(1)
        )
        self.shape = (n, k)
        self.square = tf.constant((-0.5 * precision).T, tf.float32)  # (D, NK)
        self.linear = tf.constant((means * precision).T, tf.float32)
        self.const = tf.constant(const, tf.float32)

    def __call__(self, features):
        x = tf.cast(features, tf.float32)
        comp = tf.matmul(x * x, self.square) + tf.matmul(x, self.linear) + self.const
        comp = tf.reshape(comp, [-1, *self.shape])
        return tf.reduce_logsumexp(comp, axis=-1)  # (T, N)


class Recognizer(tf.Module):
    """Waveform -> transcript, all in TensorFlow: features, network, Viterbi.

    Args:
        model: the hybrid network (an ensemble's posteriors are averaged).
        graph: the decoding graph (lexicon + bigram LM).
        priors: ``(A,)`` log state priors.
        feature_config: the :class:`FeatureConfig` of training.
        context: frames of context on each side of an MLP's window; None
            for a sequence network (``(1, T, D)`` -> ``(1, T, A)``).
        beam: Viterbi beam width or None.
        gmm: the GMM emissions of the word HMMs (a
            :class:`~dltoolkit.hmm.GMMEmissions`), needed when ``gmm_weight``
            is not 0.
        gmm_weight: the weight of the GMM-HMM's frame scores added to the
            network's: the network's scaled log-likelihood (log-posterior
            minus log-prior) plus ``gmm_weight`` times the GMM's per-frame
            state log-posterior under equal priors (a log-linear combination
            of the two acoustic models).
    """

    def __init__(
        self,
        model,
        graph: DecodingGraph,
        priors,
        feature_config,
        context,
        beam=None,
        *,
        gmm=None,
        gmm_weight: float = 0.0,
    ):
        super().__init__(name="recognizer")
        if gmm_weight and gmm is None:
            raise ValueError("gmm_weight needs the GMM emissions (gmm=...)")
        self.gmm_weight = float(gmm_weight)
        self.gmm = GaussianScores(gmm) if self.gmm_weight else None
        self.model = model
        self.feature_config = feature_config
        self.context = None if context is None else int(context)
        self.beam = beam
        self.log_priors = tf.constant(priors, tf.float32)
        self.graph = graph
        self.words = tf.constant(list(graph.words))
        self.units = tf.constant(np.maximum(graph.state_units, 0), tf.int32)
        self.recognize = tf.function(
            self._recognize,
            input_signature=[tf.TensorSpec([None], tf.float32, name=WAVEFORM)],
        )
        self.scores = tf.function(
            self._scores,
            input_signature=[tf.TensorSpec([None, None], tf.float32)],
        )

    def _scores(self, features):
        """Scaled log-likelihoods ``(T, A)`` of one utterance's features."""
        if self.context is None:  # the whole utterance at once
            posteriors = self.model(features[None], training=False)[0]
        else:
            posteriors = self.model(splice(features, self.context), training=False)
        if posteriors.shape.rank == 3:  # (T, N, A): an ensemble's N members
            posteriors = mean_posteriors(posteriors)
        scores = tf.math.log(tf.cast(posteriors, tf.float32) + _EPS) - self.log_priors
        if self.gmm is None:
            return scores
        gmm = self.gmm(features)
        gmm -= tf.reduce_logsumexp(gmm, axis=1, keepdims=True)
        return scores + self.gmm_weight * gmm

    def _recognize(self, waveform):
        # Shorter input (empty included) is padded with silence to MIN_SAMPLES,
        # enough frames for the silence model: it decodes as "" with a score.
        short = tf.maximum(MIN_SAMPLES - tf.shape(waveform)[0], 0)
        waveform = tf.pad(waveform, [[0, short]])
        features = compute_features(waveform, self.feature_config)
        em = self.graph.emissions(self._scores(features))  # (T + 1, G)
        path, score = viterbi_beam(
            self.graph.log_startprob,
            self.graph.log_transmat,
            em[None],
            beam=self.beam,
        )
        path = path[0]
        words = tf.gather(self.words, path_words(path, self.graph.word_entry))
        silent = tf.reduce_max(tf.abs(waveform)) < SILENCE_PEAK
        words = tf.cond(silent, lambda: words[:0], lambda: words)
        return {
            "transcript": tf.strings.reduce_join(words, separator=" "),
            "words": words,
            "score": score[0],
            "frame_states": tf.gather(self.units, path[:-1]),  # acoustic state
        }
