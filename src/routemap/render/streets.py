"""The "Streets (offline)" overlay: vector tiles or the route's street graph, with street names, in the page.

:func:`streets_layer` decides the source (see :mod:`routemap.render.basemap`) and returns a folium layer the
layer control lists as a checkbox. Everything it draws is inside the HTML: the vector tiles as base64
strings decoded by the vendored Leaflet.VectorGrid (``static/leaflet.vectorgrid``, see
``scripts/vendor_js.py``), the graph's streets as a few multi-polylines, the names as rotated labels.

Panes (z-index) keep the order readable: neighborhoods (350) under streets (360) under names (390) under
the route (Leaflet's overlay pane, 400) and its markers.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import networkx as nx
from branca.element import Element
from folium.map import Layer
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from routemap.render import basemap
from routemap.render.elements import escape_html

#: The overlay's name in the layer control.
STREETS_LAYER_NAME = "Streets (offline)"

#: Panes and their z-index (Leaflet's tile pane is 200, overlay pane 400, marker pane 600).
AREAS_PANE, STREETS_PANE, LABELS_PANE = "routemap-areas", "routemap-streets", "routemap-labels"
PANE_Z = {AREAS_PANE: 350, STREETS_PANE: 360, LABELS_PANE: 390}

#: OpenMapTiles ``transportation`` classes -> street groups (classes not listed are not drawn).
TILE_CLASS_GROUP = {
    "motorway": "motorway",
    "trunk": "motorway",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "minor": "minor",
    "busway": "minor",
    "service": "service",
    "track": "service",
    "raceway": "service",
    "path": "path",
    "rail": "rail",
    "transit": "rail",
}

#: Fills of the tiles' area layers (OpenStreetMap Carto's water and park colors, a little transparent
#: so the neighborhood shading below still reads).
AREA_STYLES = {
    "water": {"fill": True, "fillColor": "#aad3df", "fillOpacity": 0.85, "stroke": False, "weight": 0},
    "park": {"fill": True, "fillColor": "#c8e6a0", "fillOpacity": 0.6, "stroke": False, "weight": 0},
}

#: Credit for the embedded vector tiles (the corridor MBTiles' own attribution).
TILE_ATTRIBUTION = "Street tiles &copy; OpenMapTiles"

#: Zoom levels the streets layer draws at: below 12 a 15-mile route is a thumbnail, tiles would be
#: merged by the dozen for nothing; above 19 the z14 tiles are magnified 32 times.
MIN_ZOOM, MAX_ZOOM = 12, 19

_VECTORGRID_JS = "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"

#: CSS of the street names: hidden below the zoom their street group asks for (classes set by the layer).
CSS = """
<style>
.leaflet-container { background: #f2efe9; }
.routemap-street-label { position: absolute; left: 0; top: 0; display: none; white-space: nowrap;
  transform-origin: 50% 50%; font: 600 11px/1 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #3a3a3a; letter-spacing: 0.2px; pointer-events: none;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.routemap-zoom-15 .routemap-label-z15,
.routemap-zoom-16 .routemap-label-z15, .routemap-zoom-16 .routemap-label-z16,
.routemap-zoom-17 .routemap-label-z15, .routemap-zoom-17 .routemap-label-z16,
.routemap-zoom-17 .routemap-label-z17 { display: block; }
.routemap-zoom-17 .routemap-street-label { font-size: 12px; }
</style>
"""


@cache
def vectorgrid_js() -> str:
    """Return the vendored Leaflet.VectorGrid bundle, safe to put inside a ``<script>`` element."""
    text = resources.files("routemap.render").joinpath("static").joinpath(_VECTORGRID_JS).read_text("utf-8")
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)


class StreetsLayer(Layer):
    """A Leaflet layer group holding the offline streets (tiles or lines) and their names."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (map) {
            var panes = {{ this.panes|tojson }};
            Object.keys(panes).forEach(function (name) {
                if (!map.getPane(name)) {
                    var pane = map.createPane(name);
                    pane.style.zIndex = panes[name];
                    pane.style.pointerEvents = "none";
                }
            });
            var groups = {{ this.groups|tojson }};
            function width(group, zoom) {
                return groups[group].width_z15 * Math.pow({{ this.width_per_zoom }}, zoom - 15);
            }
            function style(group, zoom) {
                var g = groups[group];
                var fade = {{ this.fade_opacity|tojson }};
                var opacity = zoom >= {{ this.fade_below }} ? 1 : (g.fade ? fade[0] : fade[1]);
                return {color: g.color, weight: width(group, zoom), opacity: opacity, dashArray: g.dash,
                        lineCap: "round", lineJoin: "round", interactive: false};
            }
            var layer = L.layerGroup();
            {%- if this.tiles is not none %}
            var tiles = {{ this.tiles|tojson }}, native = {{ this.native_zoom }};
            var classGroup = {{ this.class_group|tojson }};
            var decoded = {};
            // Each requested tile is drawn from the native (z14) tiles it overlaps, their features moved
            // and scaled into its frame: crisp lines at every zoom (no magnified bitmaps), one source.
            var Grid = L.VectorGrid.Protobuf.extend({
                _nativeTile: function (x, y) {
                    var key = native + "/" + x + "/" + y;
                    if (!tiles[key]) { return Promise.resolve(null); }
                    if (!decoded[key]) {
                        decoded[key] = L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(
                            this, {x: x, y: y, z: native});
                    }
                    return decoded[key];
                },
                _getVectorTilePromise: function (coords) {
                    var s = Math.pow(2, coords.z - native), want = [];
                    var x0 = Math.floor(coords.x / s), y0 = Math.floor(coords.y / s);
                    var n = Math.max(1, Math.round(1 / s));
                    for (var i = 0; i < n; i++) {
                        for (var j = 0; j < n; j++) { want.push([x0 + i, y0 + j]); }
                    }
                    var self = this;
                    return Promise.all(want.map(function (t) { return self._nativeTile(t[0], t[1]); }))
                        .then(function (found) {
                            var out = {layers: {}};
                            found.forEach(function (tile, k) {
                                if (!tile) { return; }
                                for (var name in tile.layers) {
                                    var src = tile.layers[name], e = src.extent;
                                    var dx = want[k][0] * e * s - coords.x * e;
                                    var dy = want[k][1] * e * s - coords.y * e;
                                    var dst = out.layers[name] || (out.layers[name] = {extent: e, features: []});
                                    src.features.forEach(function (f) {
                                        var geom = f.geometry.map(function (ring) {
                                            return ring.map(function (p) {
                                                return {x: p.x * s + dx, y: p.y * s + dy};
                                            });
                                        });
                                        if (s > 1) {
                                            // magnified: skip features whose box misses this tile
                                            var x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
                                            geom.forEach(function (ring) {
                                                ring.forEach(function (p) {
                                                    if (p.x < x1) { x1 = p.x; } if (p.x > x2) { x2 = p.x; }
                                                    if (p.y < y1) { y1 = p.y; } if (p.y > y2) { y2 = p.y; }
                                                });
                                            });
                                            if (x2 < -e / 8 || y2 < -e / 8 || x1 > e * 1.125 || y1 > e * 1.125) {
                                                return;
                                            }
                                        }
                                        dst.features.push({type: f.type, properties: f.properties, geometry: geom});
                                    });
                                }
                            });
                            return out;
                        });
                }
            });
            if (map.attributionControl) {
                map.attributionControl.addAttribution({{ this.tile_attribution|tojson }});
            }
            var empty = "data:application/x-protobuf;base64,";
            new Grid("{tile}", {
                tile: function (d) {
                    var b64 = tiles[d.z + "/" + d.x + "/" + d.y];
                    return b64 ? "data:application/x-protobuf;base64," + b64 : empty;
                },
                pane: {{ this.streets_pane|tojson }},
                rendererFactory: L.canvas.tile,
                interactive: false,
                minZoom: {{ this.min_zoom }},
                maxZoom: {{ this.max_zoom }},
                vectorTileLayerStyles: {
                    water: {{ this.area_styles.water|tojson }},
                    park: {{ this.area_styles.park|tojson }},
                    transportation: function (p, zoom) {
                        var group = classGroup[p["class"]];
                        if (!group) { return []; }
                        var st = style(group, zoom);
                        if (p.brunnel === "tunnel") { st.opacity = 0.45; }
                        return st;
                    }
                }
            }).addTo(layer);
            {%- else %}
            var lines = {{ this.lines|tojson }};
            var renderer = L.canvas({pane: {{ this.streets_pane|tojson }}, padding: 0.5});
            var drawn = {};
            Object.keys(lines).forEach(function (group) {
                drawn[group] = L.polyline(lines[group], L.extend(style(group, map.getZoom() || 15),
                    {renderer: renderer, smoothFactor: 1})).addTo(layer);
            });
            map.on("zoomend", function () {
                Object.keys(drawn).forEach(function (group) {
                    drawn[group].setStyle(style(group, map.getZoom()));
                });
            });
            {%- endif %}
            var labels = {{ this.labels|tojson }}, names = {{ this.names|tojson }};
            labels.forEach(function (l) {
                var html = '<span class="routemap-street-label routemap-label-z' + l[1] +
                    '" style="transform: translate(-50%, -50%) rotate(' + l[4] + 'deg)">' + names[l[0]] + "</span>";
                L.marker([l[2], l[3]], {
                    pane: {{ this.labels_pane|tojson }}, interactive: false, keyboard: false,
                    icon: L.divIcon({className: "routemap-street-label-icon", html: html, iconSize: [0, 0]})
                }).addTo(layer);
            });
            function zoomClass() {
                var c = map.getContainer(), z = Math.round(map.getZoom());
                [15, 16, 17].forEach(function (k) {
                    L.DomUtil.removeClass(c, "routemap-zoom-" + k);
                });
                L.DomUtil.addClass(c, "routemap-zoom-" + Math.min(17, z));
            }
            map.on("zoomend", zoomClass);
            map.whenReady(zoomClass);
            return layer;
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        tiles: dict[str, bytes] | None,
        lines: dict[str, list] | None,
        labels: Any,
        name: str = STREETS_LAYER_NAME,
        show: bool = True,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "StreetsLayer"
        self.tiles = (
            None if tiles is None else {k: base64.b64encode(v).decode("ascii") for k, v in tiles.items()}
        )
        self.lines = lines or {}
        names = sorted(set(labels["name"]))
        index = {n: i for i, n in enumerate(names)}
        self.names = [escape_html(n) for n in names]
        self.labels = [
            [index[r.name], int(basemap.STREET_GROUPS[r.group]["label_zoom"]), r.lat, r.lon, r.angle]
            for r in labels.itertuples(index=False)
        ]
        self.groups = {
            g: {"color": s["color"], "width_z15": s["width_z15"], "dash": s["dash"], "fade": s["fade"]}
            for g, s in basemap.STREET_GROUPS.items()
        }
        self.class_group = TILE_CLASS_GROUP
        self.width_per_zoom = basemap.WIDTH_PER_ZOOM
        self.fade_below = basemap.FADE_BELOW_ZOOM
        self.fade_opacity = list(basemap.FADE_OPACITY)
        self.native_zoom = basemap.TILE_ZOOM
        self.min_zoom, self.max_zoom = MIN_ZOOM, MAX_ZOOM
        self.panes = PANE_Z
        self.area_styles = AREA_STYLES
        self.tile_attribution = TILE_ATTRIBUTION
        self.streets_pane, self.labels_pane = STREETS_PANE, LABELS_PANE

    def render(self, **kwargs):
        figure = self.get_root()
        figure.header.add_child(Element(CSS), name="routemap_streets_css")
        if self.tiles is not None:
            figure.header.add_child(
                Element(f"<script>{vectorgrid_js()}</script>"), name="routemap_leaflet_vectorgrid"
            )
        super().render(**kwargs)


def streets_layer(
    routes_graph: nx.MultiDiGraph,
    lines: Sequence[BaseGeometry],
    within_m: float = basemap.BASEMAP_WITHIN_M,
) -> StreetsLayer:
    """Return the "Streets (offline)" overlay for routes on ``routes_graph``.

    Parameters
    ----------
    routes_graph : networkx.MultiDiGraph
        The street graph the routes were planned on (names for the labels; the streets themselves when
        it was not built from vector tiles).
    lines : sequence of LineString
        The routes, EPSG:4326.
    within_m : float
        How far around the routes the streets reach.

    Returns
    -------
    StreetsLayer
        Add it to the map before the layer control.
    """
    streets = basemap.graph_streets(routes_graph, lines, within_m)
    labels = basemap.street_labels(streets)
    source = basemap.tile_source(routes_graph)
    tiles = basemap.route_tiles(source, lines, within_m) if source is not None else None
    if tiles is not None and not tiles:
        tiles = None  # tiles that do not cover this route: fall back on the graph
    merged = basemap.merged_streets(streets) if tiles is None else None
    return StreetsLayer(tiles=tiles, lines=merged, labels=labels)
