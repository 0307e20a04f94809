"""lpmac: hardware generator and co-simulation framework for low-precision MAC units."""

from .config import CFG_PRESETS, AccConfig, GemmConfig, MacConfig, MulConfig
from .errors import (
    BitsError,
    BitsTypeError,
    ConfigError,
    FormatError,
    LimitError,
    LpmacError,
)
from .formats import BfpFormat, FixedFormat, FloatFormat, parse_format

__all__ = [
    "FloatFormat",
    "FixedFormat",
    "BfpFormat",
    "FormatError",
    "parse_format",
    "MulConfig",
    "AccConfig",
    "MacConfig",
    "GemmConfig",
    "ConfigError",
    "CFG_PRESETS",
    "LpmacError",
    "BitsError",
    "BitsTypeError",
    "LimitError",
]
__version__ = "0.1.0"
