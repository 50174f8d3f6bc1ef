"""Data loaders (real paths and embedded defaults), returning tf.data pipelines."""
