"""Translation app: attention seq2seq or Transformer, beam search, BLEU, SavedModel."""
