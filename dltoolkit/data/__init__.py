"""Data loaders (real paths and embedded defaults), returning tf.data pipelines.

``images`` / ``image_arrays`` serve the image apps; the other domains are
subpackages: ``translation``, ``captions``, ``sentiment``, ``spoken_digits``.
"""
