"""The README's library snippet runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(tmp_path)  # the snippet writes route.html and route.gpx
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    assert (tmp_path / "route.html").stat().st_size > 0
    assert (tmp_path / "route.gpx").stat().st_size > 0
