"""DCGAN image generation, judged by a classifier of the real images."""
