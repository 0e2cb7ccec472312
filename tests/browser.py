"""Headless Chromium for tests: open a local HTML file with the network cut off, record what goes wrong.

Uses Debian's ``/usr/bin/chromium`` (or ``ROUTEMAP_CHROMIUM``) driven by playwright-python; tests skip
with a reason when either is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """Return the Chromium executable to drive, or None."""
    env = os.environ.get("ROUTEMAP_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def skip_without_browser() -> str:
    """Return the Chromium path, or skip the test with the reason."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("needs playwright-python (pip install playwright) to drive headless Chromium")
    path = chromium_path()
    if path is None:
        pytest.skip("needs Chromium (apt install chromium, or set ROUTEMAP_CHROMIUM)")
    return path


@dataclass
class PageLog:
    """What happened while a page was open."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    #: Chromium's console lines about a request this log blocked ("Failed to load resource"): the
    #: blocking's doing, not the page's, so they are kept apart from ``console_errors``.
    blocked_load_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.page_errors + self.console_errors

    @property
    def blocked_hosts(self) -> set[str]:
        """Return the hosts of the blocked requests."""
        from urllib.parse import urlsplit

        return {urlsplit(u).hostname or u[:20] for u in self.blocked}


@contextlib.contextmanager
def offline_page(
    html_path: str | os.PathLike, width: int = 1200, height: int = 800, settle_ms: int = 500
) -> Iterator[tuple[object, PageLog]]:
    """Yield (playwright Page, PageLog) for ``html_path`` opened with every non-file request aborted.

    Dialogs (``alert``...) are recorded and dismissed; JavaScript errors and console errors recorded.
    ``data:`` and ``blob:`` URLs (inside the page, not the network) are not routed by playwright.
    """
    from playwright.sync_api import sync_playwright

    executable = skip_without_browser()
    log = PageLog()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})

            def route(r):
                if r.request.url.startswith("file:"):
                    r.continue_()
                else:
                    log.blocked.append(r.request.url)
                    r.abort()

            def dialog(d):
                log.dialogs.append(f"{d.type}: {d.message}")
                d.dismiss()

            page.route("**/*", route)
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))

            def console(msg):
                if msg.type != "error":
                    return
                url = (msg.location or {}).get("url", "")
                if msg.text.startswith("Failed to load resource") and url in log.blocked:
                    log.blocked_load_errors.append(f"{msg.text} {url}")
                else:
                    log.console_errors.append(msg.text)

            page.on("console", console)
            page.on("dialog", dialog)
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(settle_ms)
            yield page, log
        finally:
            browser.close()


def distinct_colors(png: bytes) -> int:
    """Return how many distinct RGB colors a PNG image holds."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=1 << 24) or [])
