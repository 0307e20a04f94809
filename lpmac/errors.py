"""The one exception hierarchy of lpmac: every refusal of a bad input is an `LpmacError`.

Each class is also the built-in exception a Python user expects (`ValueError` for a value
out of range, `TypeError` for a value of the wrong kind), so `except ValueError` keeps
working. Messages are one line: what is wrong, the valid range, and the fix.
"""

from __future__ import annotations

__all__ = [
    "LpmacError",
    "FormatError",
    "ConfigError",
    "BitsError",
    "BitsTypeError",
    "LimitError",
]


class LpmacError(Exception):
    """Base of every error lpmac raises on purpose for a bad input."""


class FormatError(LpmacError, ValueError):
    """An impossible or unsupported number format."""


class ConfigError(LpmacError, ValueError):
    """An impossible configuration."""


class BitsError(LpmacError, ValueError):
    """Integer bit patterns outside [0, 2^width) of their format (negative or too wide)."""


class BitsTypeError(LpmacError, TypeError):
    """Bit patterns of the wrong kind: floats, bools, objects or strings instead of integers."""


class LimitError(LpmacError, ValueError):
    """A size (elements, vectors, block length, ...) over a documented limit."""
