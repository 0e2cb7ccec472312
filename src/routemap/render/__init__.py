"""Route(s) + layers -> a folium map (``render_map``), saved atomically (``save_map``)."""

from routemap.render.elements import escape_html
from routemap.render.layers import METRICS, ROUTE_COLORS
from routemap.render.map import render_map, save_map
from routemap.render.offline import external_assets, inline_assets

__all__ = [
    "METRICS",
    "ROUTE_COLORS",
    "escape_html",
    "external_assets",
    "inline_assets",
    "render_map",
    "save_map",
]
