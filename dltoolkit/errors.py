"""Errors that mean "the user asked for something wrong", not "the code is broken".

Command-line entry points print these as one line on stderr and exit non-zero,
with no traceback.
"""


class UserError(Exception):
    """A bad input: unknown name, bad value, missing or malformed data."""


class ConfigError(UserError):
    """An unknown profile or key, or a value of the wrong type."""


class DataError(UserError):
    """A missing, empty, unreadable or malformed data source."""


class TrainingDiverged(UserError):
    """The loss became NaN or infinite during training."""
