"""Components that refuse bad arguments before they exist.

Amaranth warns about an Elaboratable "created but never used"; a constructor that raises
after the object exists would leave that warning behind. `CheckedComponent.__new__` runs the
class's `check(*args, **kwargs)` first, so a refused component is never created (no private
Amaranth API needed)."""

from __future__ import annotations

from amaranth.lib import wiring

__all__ = ["CheckedComponent"]


class CheckedComponent(wiring.Component):
    @staticmethod
    def check(*args, **kwargs) -> None:
        """Raise ValueError (or TypeError) for arguments the constructor must refuse."""

    def __new__(cls, *args, src_loc_at: int = 0, **kwargs):
        cls.check(*args, **kwargs)
        return super().__new__(cls, src_loc_at=src_loc_at + 1)
