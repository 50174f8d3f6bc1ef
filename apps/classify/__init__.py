"""Image classification: the template app."""
