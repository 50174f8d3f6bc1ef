"""Autoencoders in use: denoising, VAE samples, anomaly scores.

Run as ``python -m apps.autoencode``.
"""
