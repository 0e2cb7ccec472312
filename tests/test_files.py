"""Atomic writing: a failure leaves no partial file and no change."""

from __future__ import annotations

import pytest

from routemap._files import atomic_dir, atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_atomic_dir_writes_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError), atomic_dir(out) as tmp:
        (tmp / "route.html").write_text("x")
        raise ValueError("bad")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "route.html").write_text("x")
    assert (out / "route.html").read_text() == "x"
