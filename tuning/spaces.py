"""Search spaces, all in one place.

Each app has an architecture space; every app shares the optimizer/schedule
space. A space maps a keras-tuner ``hp`` to config overrides, so the same app
code trains with fixed values and with a trial's ``hp``.
"""

from __future__ import annotations

from dltoolkit.errors import ConfigError
from dltoolkit.optim import OPTIMIZERS, SCHEDULES


def _active(values: dict) -> dict:
    """Drops the hyperparameters of inactive conditional branches (None)."""
    return {k: v for k, v in values.items() if v is not None}


def optimizer_space(hp, config) -> dict:
    """The course's optimizers and learning-rate schedules.

    The schedules' own parameters are conditional on the schedule chosen.
    """
    values = {
        "optimizer": hp.Choice("optimizer", list(OPTIMIZERS), default="adam"),
        "learning_rate": hp.Float(
            "learning_rate", 1e-4, 1e-1, sampling="log", default=1e-3
        ),
        "schedule": hp.Choice("schedule", list(SCHEDULES), default="constant"),
    }
    with hp.conditional_scope("schedule", ["power", "exponential"]):
        values["decay_epochs"] = hp.Float("decay_epochs", 1.0, 50.0, sampling="log")
    with hp.conditional_scope("schedule", ["power"]):
        values["decay_power"] = hp.Float("decay_power", 0.5, 2.0)
    with hp.conditional_scope("schedule", ["piecewise"]):
        values["piecewise_factor"] = hp.Choice("piecewise_factor", [0.1, 0.3, 0.5])
    with hp.conditional_scope("schedule", ["performance"]):
        values["perf_factor"] = hp.Choice("perf_factor", [0.1, 0.2, 0.5])
        values["perf_patience"] = hp.Int("perf_patience", 1, 5)
    if values["schedule"] == "piecewise":
        # Step down at half and three quarters of the run.
        epochs = max(2, config.epochs)
        values["piecewise_boundaries"] = tuple(
            sorted({max(1, epochs // 2), max(2, 3 * epochs // 4)})
        )
    return _active(values)


def classify_space(hp, config) -> dict:
    """LeNet-5 or an MLP, with the course's activations and regularization."""
    values = {
        "model": hp.Choice("model", ["lenet5", "mlp"], default="lenet5"),
        "activation": hp.Choice(
            "activation", ["relu", "tanh", "elu", "leaky_relu", "selu"], default="relu"
        ),
        "dropout": round(hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0), 2),
        "batch_norm": hp.Boolean("batch_norm", default=False),
    }
    with hp.conditional_scope("model", ["mlp"]):
        width = hp.Int("mlp_width", 32, 256, sampling="log")
        depth = hp.Int("mlp_depth", 1, 3)
    if width is not None:
        values["hidden_units"] = (width,) * depth
    return _active(values)


def sentiment_space(hp, config) -> dict:
    """BiLSTM, BiGRU, 1D CNN, HAN, BERT-like or NB-LR, with their sizes,
    dropout and (NB-LR) L2 penalty."""
    values = {
        "model": hp.Choice(
            "model", ["lstm", "gru", "cnn", "han", "bert_like", "nblr"], default="lstm"
        ),
        "dropout": round(hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0), 2),
    }
    with hp.conditional_scope("model", ["lstm", "gru", "cnn", "han"]):
        values["embedding_dim"] = hp.Choice(
            "embedding_dim", [16, 32, 64, 128], default=32
        )
    with hp.conditional_scope("model", ["lstm", "gru", "han"]):
        values["units"] = hp.Choice("units", [16, 32, 64, 128], default=32)
    with hp.conditional_scope("model", ["lstm", "gru"]):
        rnn_layers = hp.Int("rnn_layers", 1, 2, default=1)
    with hp.conditional_scope("model", ["cnn"]):
        values["filters"] = hp.Choice("filters", [32, 64, 128], default=64)
        values["conv_layers"] = hp.Int("conv_layers", 1, 3, default=2)
    with hp.conditional_scope("model", ["bert_like"]):
        bert_layers = hp.Int("bert_layers", 1, 4, default=2)
        d_model = hp.Choice("d_model", [32, 64, 128], default=64)
        values["pretrain_epochs"] = hp.Choice("pretrain_epochs", [0, 1, 2], default=0)
    with hp.conditional_scope("model", ["nblr"]):
        values["l2"] = hp.Choice("l2", [0.0, 1e-5, 2e-5, 5e-5], default=2e-5)
    values["num_layers"] = rnn_layers if rnn_layers is not None else bert_layers
    if d_model is not None:
        values["d_model"], values["d_ff"] = d_model, 2 * d_model
    return _active(values)


def translation_space(hp, config) -> dict:
    """Attention seq2seq (GRU/LSTM) or Transformer, their sizes and dropout."""
    values = {
        "model": hp.Choice("model", ["seq2seq", "transformer"], default="seq2seq"),
        "embedding_dim": hp.Choice("embedding_dim", [64, 128, 256], default=128),
        "dropout": round(hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.1), 2),
    }
    with hp.conditional_scope("model", ["seq2seq"]):
        values["cell"] = hp.Choice("cell", ["gru", "lstm"], default="gru")
        rnn_units = hp.Choice("rnn_units", [128, 256, 384], default=256)
        values["attention_units"] = hp.Choice(
            "attention_units", [32, 64, 128], default=64
        )
    with hp.conditional_scope("model", ["transformer"]):
        values["num_layers"] = hp.Int("num_layers", 1, 4, default=2)
        values["num_heads"] = hp.Choice("num_heads", [2, 4, 8], default=4)
        ff_units = hp.Choice("ff_units", [256, 512, 1024], default=512)
    values["units"] = rnn_units if rnn_units is not None else ff_units
    return _active(values)


def autoencode_space(hp, config) -> dict:
    """Autoencoder variant, code size and each variant's own regularizer.

    noise (q) only for the denoising and conv variants, rho and beta only
    for the sparse one, lambda only for the contractive one, the latent size
    only for the VAE.
    """
    values = {
        "variant": hp.Choice(
            "variant",
            ["denoising", "plain", "tied", "sparse", "contractive", "conv", "vae"],
            default="denoising",
        ),
    }
    with hp.conditional_scope(
        "variant", ["denoising", "plain", "tied", "sparse", "contractive"]
    ):
        values["code_size"] = hp.Choice("code_size", [16, 32, 64], default=32)
    with hp.conditional_scope("variant", ["denoising", "conv"]):
        noise = hp.Float("noise", 0.1, 0.5, step=0.1, default=0.3)
        values["noise"] = None if noise is None else round(noise, 2)
    with hp.conditional_scope("variant", ["sparse"]):
        values["sparsity"] = hp.Choice("sparsity", [0.01, 0.05, 0.1], default=0.05)
        values["sparsity_weight"] = hp.Float(
            "sparsity_weight", 0.01, 1.0, sampling="log", default=0.1
        )
    with hp.conditional_scope("variant", ["contractive"]):
        values["contraction"] = hp.Float(
            "contraction", 1e-3, 1e-1, sampling="log", default=1e-2
        )
    with hp.conditional_scope("variant", ["vae"]):
        values["latent_dim"] = hp.Choice("latent_dim", [2, 4, 8], default=2)
    return _active(values)


def captioning_space(hp, config) -> dict:
    """Encoder CNN; LSTM decoder (attention on/off, conditioning) or Transformer."""
    values = {
        "encoder": hp.Choice("encoder", ["lenet5", "resnet18"], default="lenet5"),
        "decoder": hp.Choice("decoder", ["lstm", "transformer"], default="lstm"),
        "feature_dim": hp.Choice("feature_dim", [32, 64, 128], default=64),
        "dropout": round(hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.0), 2),
    }
    with hp.conditional_scope("encoder", ["resnet18"]):
        # Cut after the second stage: 8x8 positions on 64x64 images.
        values["feature_layer"] = hp.Choice(
            "resnet_layer", ["conv3_block2_out"], default="conv3_block2_out"
        )
    with hp.conditional_scope("decoder", ["lstm"]):
        lstm_units = hp.Choice("lstm_units", [128, 256, 512], default=256)
        values["embedding_dim"] = hp.Choice("embedding_dim", [32, 64, 128], default=64)
        values["attention"] = hp.Boolean("attention", default=True)
        values["conditioning"] = hp.Choice(
            "conditioning", ["init", "concat", "both"], default="init"
        )
    with hp.conditional_scope("decoder", ["transformer"]):
        values["num_layers"] = hp.Int("num_layers", 1, 3, default=2)
        values["num_heads"] = hp.Choice("num_heads", [2, 4], default=4)
        ff_units = hp.Choice("ff_units", [128, 256, 512], default=256)
    values["units"] = lstm_units if lstm_units is not None else ff_units
    return _active(values)


def gan_space(hp, config) -> dict:
    """DCGAN widths, latent size, k (D steps per G step), label smoothing."""
    values = {
        "generator_width": hp.Choice("generator_width", [32, 64, 128], default=64),
        "discriminator_width": hp.Choice(
            "discriminator_width", [32, 64, 128], default=64
        ),
        "latent_dim": hp.Choice("latent_dim", [32, 64, 100], default=64),
        "k": hp.Int("k", 1, 3, default=1),
        "label_smoothing": hp.Choice("label_smoothing", [0.0, 0.1, 0.2], default=0.1),
    }
    return _active(values)


def asr_space(hp, config) -> dict:
    """Features, word-HMM states and mixtures, the hybrid network (an MLP
    over spliced frames or a bidirectional GRU over utterances, with its
    sizes), the decoder's LM weight, insertion penalty and GMM score weight.

    The objective is the validation WER (``val_wer``, logged by the app).
    """
    values = {
        "features": hp.Choice("features", ["mfcc", "logmel"], default="mfcc"),
        "states_per_word": hp.Choice("states_per_word", [5, 8, 10], default=8),
        "mixtures": hp.Choice("mixtures", [1, 2, 4, 8], default=4),
        "acoustic": hp.Choice("acoustic", ["mlp", "bigru"], default="mlp"),
    }
    with hp.conditional_scope("acoustic", ["mlp"]):
        width = hp.Choice("hidden_width", [128, 256, 512, 1024], default=512)
        depth = hp.Int("hidden_layers", 1, 3, default=2)
        values["context"] = hp.Int("context", 2, 8, default=5)
    with hp.conditional_scope("acoustic", ["bigru"]):
        values["rnn_units"] = hp.Choice("rnn_units", [64, 128, 256], default=128)
        values["rnn_layers"] = hp.Int("rnn_layers", 1, 3, default=2)
    if width is not None:
        values["hidden_units"] = (width,) * depth
    values.update(
        dropout=round(hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.1), 2),
        lm_weight=hp.Float("lm_weight", 1.0, 30.0, sampling="log", default=10.0),
        gmm_weight=hp.Choice("gmm_weight", [0.0, 0.5, 1.0], default=0.0),
        insertion_penalty=hp.Float(
            "insertion_penalty", -10.0, 5.0, step=2.5, default=0.0
        ),
    )
    return _active(values)


ARCHITECTURE_SPACES = {
    "classify": classify_space,
    "sentiment": sentiment_space,
    "translation": translation_space,
    "captioning": captioning_space,
    "autoencode": autoencode_space,
    "gan": gan_space,
    "asr": asr_space,
}


def search_space(app_name: str, hp, config) -> dict:
    """Config overrides for one trial: the app's architecture plus the optimizer."""
    if app_name not in ARCHITECTURE_SPACES:
        raise ConfigError(
            f"No search space for app {app_name!r}. "
            f"Apps with one: {', '.join(ARCHITECTURE_SPACES)}."
        )
    return {
        **ARCHITECTURE_SPACES[app_name](hp, config),
        **optimizer_space(hp, config),
    }
