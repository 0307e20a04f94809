"""Atomic JSON writes, shared by the synthesis point cache and the study's run cache.

The data goes to a temporary file beside the target, then a rename puts it in place, so a
reader (or a resumed run after a crash) sees the old file or the whole new one, never half.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

__all__ = ["write_json_atomic"]


def write_json_atomic(path: Path, data) -> None:
    """Write `data` as JSON (indent 1) to `path` through a temporary file and a rename.

    The temporary name carries the process and thread id, so concurrent writers of the same
    path never share one. On OSError the temporary file is removed and the error re-raised;
    the target is then left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
