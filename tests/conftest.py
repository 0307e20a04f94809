"""Shared pytest setup: make the exact reference model (tests/fraction_ref.py) importable
whatever pytest's import mode or the presence of a tests package."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
