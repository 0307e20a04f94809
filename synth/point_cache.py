"""The sweep's point cache: one JSON file per flow key, checked before it is believed.

An entry is `{"schema": SCHEMA, "key": <flow key>, "sha256": <digest>, "result": {...}}`, the
digest taken over the canonical JSON of key and result. Reading a file that is truncated, not
JSON, of another schema, stored under another key's name, or whose digest does not match gives
one warning line naming the file and a miss, so the point is recomputed and the file rewritten:
a damaged cache never ends in a traceback and never passes for an ok result.
Writes go through a temporary file and a rename, so a crash never leaves half an entry.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from tqdm import tqdm

from lpmac.atomic_io import write_json_atomic

SCHEMA = 1
# Fields every stored synthesis result has (SynthResult.to_json()), with their JSON types.
_RESULT_FIELDS = {
    "luts": int,
    "luts_by_size": dict,
    "carry": int,
    "muxf": int,
    "ffs": int,
    "dsps": int,
    "brams": int,
    "cells": dict,
    "yosys_version": str,
    "seconds": (int, float),
}


def warn(message: str) -> None:
    """One line on stderr that does not break a progress bar."""
    tqdm.write(f"lpmac: warning: {message}", file=sys.stderr)


def _digest(key: str, result: dict) -> str:
    canonical = json.dumps({"key": key, "result": result}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_path(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / f"{key}.json"


def _problem(entry, key: str) -> str | None:
    """What is wrong with a parsed entry for `key`, or None when it can be believed."""
    if not isinstance(entry, dict) or "schema" not in entry:
        return "not a cache entry of this lpmac (no schema)"
    if entry["schema"] != SCHEMA:
        return f"schema {entry['schema']!r}, expected {SCHEMA}"
    result = entry.get("result")
    if not isinstance(result, dict) or not isinstance(entry.get("sha256"), str):
        return "no result or checksum"
    if entry.get("key") != key:
        return "stored under another point's name"
    if entry["sha256"] != _digest(key, result):
        return "checksum mismatch (the result was changed after it was written)"
    for name, kind in _RESULT_FIELDS.items():
        if not isinstance(result.get(name), kind) or isinstance(result.get(name), bool):
            return f"result field {name!r} missing or of the wrong type"
    return None


def read(cache_dir: Path, key: str) -> dict | None:
    """The stored result for `key`, or None when there is none or it cannot be believed (then
    a warning names the file, and the caller recomputes and rewrites it)."""
    path = entry_path(cache_dir, key)
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):  # no entry (writing it will say more)
        return None
    except (OSError, UnicodeDecodeError) as err:
        warn(f"cannot read cache file {path} ({type(err).__name__}: {err}); recomputing")
        return None
    try:
        entry = json.loads(text)
    except ValueError as err:  # JSONDecodeError, and a truncated file
        warn(f"cache file {path} is not valid JSON ({err}); recomputing")
        return None
    problem = _problem(entry, key)
    if problem:
        warn(f"cache file {path} rejected: {problem}; recomputing")
        return None
    return entry["result"]


def write(cache_dir: Path, key: str, result: dict) -> bool:
    """Store `result` under `key` atomically; False (with a warning) when the cache directory
    cannot be written, as the result itself is still good."""
    path = entry_path(cache_dir, key)
    entry = {"schema": SCHEMA, "key": key, "sha256": _digest(key, result), "result": result}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, entry)  # a crash never leaves a half-written cache entry
    except OSError as err:
        warn(f"cannot write cache file {path} ({err.strerror or err}); result not cached")
        return False
    return True
