"""Sentiment classification of reviews (BiLSTM, GRU, CNN, HAN, BERT-like)."""
