"""Captioning app: CNN encoder, attention LSTM decoder, beam search, SavedModel."""
