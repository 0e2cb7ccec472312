"""Offline maps: inline Leaflet and every JS/CSS asset a map uses, so the HTML draws with no internet.

The asset texts come from the ``folium-offline`` registry package (``offlinefolium``), which ships the
exact CDN files folium links to, keyed by their URL. Nothing is copied by hand into routemap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

import folium
from branca.element import Element, Figure

from routemap.errors import OfflineError

#: folium's default assets that routemap's maps never use (Bootstrap, jQuery, Font Awesome and
#: awesome-markers): routemap draws markers with plain HTML/CSS, so they are left out offline.
UNUSED_ASSETS = frozenset(
    {
        "jquery",
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

_EXTERNAL = re.compile(
    r"""<(?:script[^>]*\bsrc|link[^>]*\bhref)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I
)


def _asset_texts() -> dict[str, str]:
    # offlinefolium.elements is 3.5 MB of Python: import it only when an offline map is made.
    from offlinefolium import elements

    return elements._res


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(m: folium.Map) -> list[str]:
    """Return the names of the assets now inlined in ``m``'s page (idempotent).

    Every element's CDN links are removed from it and replaced, once, by ``<script>``/``<style>``
    blocks in the page header holding the same files from ``folium-offline``.

    Parameters
    ----------
    m : folium.Map
        The map; changed in place.

    Returns
    -------
    list of str
        Asset names inlined by this call (empty when there was nothing left to inline).

    Raises
    ------
    OfflineError
        When an asset is not shipped by ``folium-offline``.
    """
    figure = cast(Figure, m.get_root())  # a Map always sits in a Figure
    texts = None
    done: list[str] = []
    element: Any  # any element class: its asset lists are found by duck typing
    for element in _walk(figure):
        js = list(getattr(element, "default_js", []) or [])
        css = list(getattr(element, "default_css", []) or [])
        if not (js or css):
            continue
        # Instance attributes shadow the class lists, so folium renders no <script src> for them.
        element.default_js = []
        element.default_css = []
        for kind, pairs in (("js", js), ("css", css)):
            for name, url in pairs:
                if name in UNUSED_ASSETS or f"offline_{name}" in figure.header._children:
                    continue
                texts = texts if texts is not None else _asset_texts()
                text = texts.get(url)
                if text is None:
                    raise OfflineError(
                        f"the map needs {url}, which folium-offline does not ship; "
                        "leave out the layer that needs it or make the map with offline=False"
                    )
                if kind == "js":
                    block = "<script>" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)
                    block += "</script>"
                else:
                    block = "<style>" + re.sub(r"</(style)", r"<\\/\1", text, flags=re.I)
                    block += "</style>"
                figure.header.add_child(Element(block), name=f"offline_{name}")
                done.append(name)
    return done


def external_assets(page: str) -> list[str]:
    """Return the URLs of scripts and stylesheets an HTML page loads from the network.

    Parameters
    ----------
    page : str
        The HTML text.

    Returns
    -------
    list of str
        ``src``/``href`` URLs of ``<script>`` and ``<link>`` tags that start with ``http``/``//``.
    """
    return _EXTERNAL.findall(page)
