"""The shared atomic JSON write: whole file or the old one, never a temporary left behind."""

import json
import os

import pytest

from lpmac import atomic_io
from lpmac.atomic_io import write_json_atomic


def test_writes_the_json_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "entry.json"
    path.write_text('{"old": true}')
    write_json_atomic(path, {"a": [1, 2], "b": "x"})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": "x"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json"]


def test_failed_rename_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "entry.json"
    path.write_text('{"old": true}')

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_io.os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        write_json_atomic(path, {"new": True})
    assert json.loads(path.read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json"]


def test_unwritable_directory_raises_oserror(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where a directory should be")
    with pytest.raises(OSError):
        write_json_atomic(blocked / "entry.json", {})
    assert os.listdir(tmp_path) == ["file"]
