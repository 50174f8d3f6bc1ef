"""Transformer encoder and decoder blocks: masks, attention weights, saving."""

import keras
import numpy as np
import pytest

from dltoolkit.layers.transformer_decoder_block import TransformerDecoderBlock
from dltoolkit.layers.transformer_encoder_block import TransformerEncoderBlock

B, T, S, D = 2, 6, 5, 16


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=(B, T, D)).astype("float32"),
        "enc": rng.normal(size=(B, S, 12)).astype("float32"),  # another width
        "rng": rng,
    }


def _encoder(norm_first=False):
    return TransformerEncoderBlock(2, 32, dropout=0.1, norm_first=norm_first)


def _decoder(norm_first=False):
    return TransformerDecoderBlock(2, 32, dropout=0.1, norm_first=norm_first)


# === Masks ===


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_decoder_is_causal(data, norm_first, cross):
    block = _decoder(norm_first)
    enc = data["enc"] if cross else None
    out = _np(block(data["x"], enc))
    changed = data["x"].copy()
    changed[:, 4:] = data["rng"].normal(size=(B, T - 4, D))
    out_changed = _np(block(changed, enc))
    np.testing.assert_allclose(out_changed[:, :4], out[:, :4], atol=1e-5)
    assert not np.allclose(out_changed[:, 4:], out[:, 4:])


@pytest.mark.parametrize("norm_first", [False, True])
def test_padding_is_never_attended(data, norm_first):
    mask = np.ones((B, T), bool)
    mask[0, 4:] = mask[1, 2:] = False
    changed = data["x"] + 10.0 * (~mask)[..., None]  # only padded positions
    encoder = _encoder(norm_first)
    out = _np(encoder(data["x"], padding_mask=mask))
    out_changed = _np(encoder(changed, padding_mask=mask))
    np.testing.assert_allclose(out_changed[mask], out[mask], atol=1e-5)
    unmasked = _np(encoder(changed))
    assert not np.allclose(unmasked[mask], out[mask])

    source_mask = np.ones((B, S), bool)
    source_mask[:, 3:] = False
    enc_changed = data["enc"] + 10.0 * (~source_mask)[..., None]
    decoder = _decoder(norm_first)
    kwargs = {"padding_mask": mask, "encoder_padding_mask": source_mask}
    out = _np(decoder(data["x"], data["enc"], **kwargs))
    out_changed = _np(decoder(changed, enc_changed, **kwargs))
    np.testing.assert_allclose(out_changed[mask], out[mask], atol=1e-5)


# === Attention weights ===


def test_attention_weights_sum_to_one_and_respect_the_masks(data):
    mask = np.ones((B, T), bool)
    mask[:, 5:] = False
    _, scores = _encoder()(data["x"], padding_mask=mask, return_attention_scores=True)
    scores = _np(scores)
    assert scores.shape == (B, 2, T, T)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(scores[..., 5:], 0.0, atol=1e-6)

    source_mask = np.ones((B, S), bool)
    source_mask[:, 4:] = False
    out, scores = _decoder()(
        data["x"],
        data["enc"],
        encoder_padding_mask=source_mask,
        return_attention_scores=True,
    )
    assert out.shape == (B, T, D)
    own, cross = _np(scores["self_attention"]), _np(scores["cross_attention"])
    assert own.shape == (B, 2, T, T) and cross.shape == (B, 2, T, S)
    for weights in (own, cross):
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(own * np.triu(np.ones((T, T)), 1), 0.0, atol=1e-6)
    np.testing.assert_allclose(cross[..., 4:], 0.0, atol=1e-6)


def test_post_norm_outputs_are_normalized_pre_norm_are_not(data):
    x = data["x"] * 5.0 + 3.0
    post = _np(_encoder(norm_first=False)(x))
    pre = _np(_encoder(norm_first=True)(x))
    np.testing.assert_allclose(post.mean(-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(post.std(-1), 1.0, atol=1e-2)
    assert np.abs(pre.mean(-1)).max() > 1.0  # the residual stream is kept


# === Errors ===


def test_bad_arguments_name_themselves(data):
    with pytest.raises(ValueError, match="num_heads"):
        TransformerEncoderBlock(3, 32)(data["x"])
    with pytest.raises(ValueError, match="dropout"):
        TransformerDecoderBlock(2, 32, dropout=1.0)
    gpt_block = _decoder()
    gpt_block(data["x"])
    with pytest.raises(ValueError, match="without cross-attention"):
        gpt_block(data["x"], data["enc"])


# === Saving ===


def test_blocks_save_and_reload(data, tmp_path):
    x = keras.Input((T, D))
    enc = keras.Input((S, 12))
    mask = keras.Input((T,), dtype="bool")
    h, enc_scores = TransformerEncoderBlock(2, 32, name="enc")(
        x, padding_mask=mask, return_attention_scores=True
    )
    y, dec_scores = TransformerDecoderBlock(2, 32, norm_first=True, name="dec")(
        h, enc, padding_mask=mask, return_attention_scores=True
    )
    model = keras.Model([x, enc, mask], [y, enc_scores, dec_scores["cross_attention"]])
    inputs = [data["x"], data["enc"], np.ones((B, T), bool)]
    path = tmp_path / "blocks.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    for a, b in zip(model(inputs), reloaded(inputs)):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-6)
    assert reloaded.get_layer("dec").get_config() == model.get_layer("dec").get_config()
