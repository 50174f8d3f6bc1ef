"""Tuning jobs: keras-tuner searches over each app's space; see spaces.py."""
