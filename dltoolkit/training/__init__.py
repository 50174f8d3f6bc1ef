"""Fit runner, configs, export, reports and the app command line."""
