"""lpmac: hardware generator and co-simulation framework for low-precision MAC units."""

from .config import CFG_PRESETS, AccConfig, ConfigError, GemmConfig, MacConfig, MulConfig
from .formats import BfpFormat, FixedFormat, FloatFormat, FormatError, parse_format

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
]
__version__ = "0.1.0"
