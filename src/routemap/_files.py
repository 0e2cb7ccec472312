"""Atomic file writing: a failure never leaves a partial or corrupted output file."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)


def _publish(tmp: str | os.PathLike, path: Path) -> None:
    """Give ``tmp`` the ordinary permissions (mkstemp makes it private) and rename it to ``path``."""
    if not os.path.isdir(tmp):
        os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Yield a file object on a temporary file beside ``path``; rename it to ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        _publish(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name; rename on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    os.unlink(tmp)  # writers such as pyogrio refuse to overwrite some formats
    try:
        yield Path(tmp)
        _publish(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success its files are moved into ``path``.

    Nothing is written to ``path`` when the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
        path.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.iterdir()):
            target = path / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Text that is plainly a number ("-3", "+1.5") is not a formula and is left as it is.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def csv_safe_text(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Numbers (and text that is plainly a number) are returned unchanged, so numeric columns stay numeric.
    The defusedcsv package does the same for ``=+-@|%`` but leaves tab and carriage return alone and
    rewrites ``|`` inside the text, so this small rule is kept here.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def write_csv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``table`` as UTF-8 CSV atomically, with formula-like text cells neutralized (:func:`csv_safe_text`).

    Column names are treated like cells. Numeric columns are written as numbers.
    """
    import pandas as pd

    safe = table.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].map(csv_safe_text)
    safe.columns = [csv_safe_text(str(c)) for c in safe.columns]
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        safe.to_csv(fh, index=False)
