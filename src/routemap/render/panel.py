"""The summary panel beside the map: a route's figures (or a comparison table) as escaped HTML in a control.

:func:`route_panel_html` and :func:`comparison_panel_html` are pure (strings out, every value through
:func:`~routemap.render.elements.escape_html`); :class:`PanelControl` puts the HTML in a collapsible Leaflet
control, open on a desktop-size window, closed on a phone, always open and unclipped on paper.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from routemap.render.elements import escape_html
from routemap.render.layers import UNIT_M, format_value, metric_label

#: Window width (CSS px) from which the panel opens by default: narrower screens (phones) see the map.
OPEN_FROM_WIDTH_PX = 800

#: When the open panel leaves at least this much map width (px), the routes are fitted beside it rather
#: than under it; narrower maps keep the plain fit (the panel can be closed).
MIN_FREE_MAP_PX = 420

#: Neighborhood bars are this wide (px) for the neighborhood with the most miles.
BAR_MAX_PX = 110

CSS = """
<style>
.routemap-panel { max-width: 300px; max-height: calc(100vh - 120px); overflow-y: auto; }
.routemap-panel-toggle { font: 600 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  background: #fff; border: 1px solid #999; border-radius: 4px; padding: 2px 8px; cursor: pointer; }
.routemap-panel-collapsed .routemap-panel-body { display: none; }
.routemap-panel h3 { font-size: 13px; margin: 6px 0 3px; }
.routemap-panel ol { margin: 2px 0; padding-left: 18px; }
.routemap-panel table { border-collapse: collapse; }
.routemap-panel td, .routemap-panel th { padding: 1px 4px 1px 0; vertical-align: middle; text-align: left; }
.routemap-panel td.num { text-align: right; white-space: nowrap; }
.routemap-panel-wide { max-width: 520px; }
.routemap-comparison th { font-size: 11px; border-bottom: 1px solid #bbb; }
.routemap-bar { display: inline-block; height: 9px; background: #1f4fbf; border-radius: 2px; }
.routemap-panel .routemap-muted { color: #555; }
@media print {
  .routemap-panel { max-height: none; overflow: visible; box-shadow: none; border: 1px solid #888; }
  .routemap-panel-toggle, .leaflet-control-layers, .leaflet-control-zoom { display: none; }
  .routemap-panel-collapsed .routemap-panel-body { display: block; }
  .routemap-panel-wide { max-width: 520px; }
.routemap-comparison th { font-size: 11px; border-bottom: 1px solid #bbb; }
.routemap-bar { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
</style>
"""


def _miles(distance_m: float | None, unit: str) -> str:
    if distance_m is None:
        return "not on the route"
    return f"{'mile' if unit == 'mi' else 'km'} {distance_m / UNIT_M[unit]:.2f}"


def route_panel_html(
    route: Any, demographics: Any | None = None, metric: str = "pct_foreign_born", unit: str = "mi"
) -> str:
    """Return the panel HTML of one route: length and target, stops, neighborhoods with miles, people near it.

    Parameters
    ----------
    route : Route
        The route.
    demographics : RouteDemographics, optional
        From :func:`routemap.route_demographics`; without it the panel says no census figures are available.
    metric : str
        The figure whose share among the people near the route is shown (e.g. ``pct_foreign_born``).
    unit : {"mi", "km"}
        Distance unit.

    Returns
    -------
    str
        Trusted HTML (every value escaped).
    """
    per = UNIT_M[unit]
    length = f"{route.length_m / per:.2f} {unit}"
    target = getattr(route, "target_m", None)
    parts = [f"<h3>{escape_html(route.name)}</h3>"]
    line = f"<b>Length</b> {escape_html(length)}"
    if target is not None:
        line += f" <span class='routemap-muted'>(target {escape_html(f'{target / per:.2f} {unit}')})</span>"
    parts.append(f"<div>{line}</div>")
    stops = list(route.stops)
    if stops:
        items = "".join(
            f"<li>{escape_html(s.name)} <span class='routemap-muted'>"
            f"{escape_html(_miles(s.position_m, unit))}</span></li>"
            for s in stops
        )
        parts.append(f"<h3>Stops</h3><ol class='routemap-stops'>{items}</ol>")
    if demographics is None:
        parts.append(
            "<h3>Neighborhoods</h3><div class='routemap-muted'>No census figures are available for this "
            "route (routemap has neighborhoods and census tracts for Los Angeles only).</div>"
        )
        return "".join(parts)
    table = demographics.neighborhoods
    col = "miles" if unit == "mi" else None
    amounts = table["miles"] if col else table["length_m"] / UNIT_M["km"]
    most = float(amounts.max()) if len(table) else 0.0
    rows = []
    for name, amount in zip(table["name"], amounts):
        width = 0 if most <= 0 else max(2, round(BAR_MAX_PX * float(amount) / most))
        rows.append(
            f"<tr class='routemap-hood'><td>{escape_html(name)}</td>"
            f"<td><span class='routemap-bar' style='width:{width}px'></span></td>"
            f"<td class='num'>{escape_html(f'{float(amount):.2f} {unit}')}</td></tr>"
        )
    if rows:
        parts.append(f"<h3>Neighborhoods, in order</h3><table>{''.join(rows)}</table>")
    notes = [str(n) for n in (getattr(demographics, "notes", None) or [])]
    if notes:  # e.g. "no census layer covers this route": say what is unknown instead of showing zeros
        text = "; ".join(notes)
        parts.append(
            f"<div class='routemap-muted routemap-notes'>{escape_html(text[:1].upper() + text[1:])}.</div>"
        )
    near = dict(demographics.near_route or {})
    buffer_m = getattr(demographics, "buffer_m", None)
    people = near.get("population")
    within = f" within {buffer_m:.0f} m" if buffer_m is not None else " near the route"
    if people is not None and not (isinstance(people, float) and math.isnan(people)):
        parts.append(
            f"<h3>People{escape_html(within)}</h3><div><b>{escape_html(f'{float(people):,.0f}')}</b> residents"
        )
        value = near.get(metric)
        if value is not None:
            label, _ = metric_label(metric)
            parts.append(f"<br>{escape_html(label)}: <b>{escape_html(format_value(value, metric))}</b>")
        parts.append("</div>")
    return "".join(parts)


#: Comparison columns shown in the panel, with their short headers; "neighborhoods" goes on a line of
#: its own under each variant, and any column missing from the table is skipped.
COMPARISON_COLUMNS = (
    ("name", "Variant"),
    ("profile", "Profile"),
    ("length_mi", "Miles"),
    ("target_mi", "Target"),
    ("major_crossings", "Major crossings"),
    ("turns", "Turns"),
    ("population_400m", "People within 400 m"),
    ("pct_foreign_born_400m", "% foreign-born"),
)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<td></td>"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"<td class='num'>{escape_html(f'{int(value):,}')}</td>"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"<td class='num'>{escape_html(f'{v:,.0f}' if abs(v) >= 1000 else f'{v:.2f}')}</td>"
    return f"<td>{escape_html(value)}</td>"


def comparison_panel_html(table: pd.DataFrame) -> str:
    """Return the panel HTML of a comparison table: one row per variant (see :data:`COMPARISON_COLUMNS`).

    The neighborhoods each variant passes go on a line under it; a variant's error, when it failed,
    takes the place of its figures. Tables without the known columns show their first six columns.
    """
    known = [(c, h) for c, h in COMPARISON_COLUMNS if c in table.columns]
    if len(known) < 2:
        known = [(c, c) for c in list(table.columns)[:6]]
    width = len(known)
    head = "".join(f"<th>{escape_html(h)}</th>" for _, h in known)
    body = []
    for _, row in table.iterrows():
        error = row.get("error")
        if isinstance(error, str) and error.strip():
            body.append(
                f"<tr>{_cell(row[known[0][0]])}<td colspan='{width - 1}' class='routemap-muted'>"
                f"failed: {escape_html(error)}</td></tr>"
            )
            continue
        body.append("<tr>" + "".join(_cell(row[c]) for c, _ in known) + "</tr>")
        hoods = row.get("neighborhoods")
        if isinstance(hoods, str) and hoods:
            body.append(f"<tr><td colspan='{width}' class='routemap-muted'>{escape_html(hoods)}</td></tr>")
    return f"<h3>Comparison</h3><table class='routemap-comparison'><tr>{head}</tr>{''.join(body)}</table>"


class PanelControl(MacroElement):
    """A collapsible Leaflet control holding trusted panel HTML (open when the window is wide enough).

    With ``bounds`` ([[south, west], [north, east]]) and the panel open, the map is fitted to them in the
    space right of the panel.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            var button = L.DomUtil.create("button", "routemap-panel-toggle", div);
            button.type = "button";
            var body = L.DomUtil.create("div", "routemap-panel-body", div);
            body.innerHTML = {{ this.content|tojson }};
            function set(open) {
                L.DomUtil[open ? "removeClass" : "addClass"](div, "routemap-panel-collapsed");
                button.textContent = open ? "Summary \u25b4 hide" : "Summary \u25be show";
                button.setAttribute("aria-expanded", open ? "true" : "false");
            }
            set(window.innerWidth >= {{ this.open_from }});
            {%- if this.bounds %}
            // Open beside a wide map: fit the routes into the space the panel leaves free.
            var map = {{ this._parent.get_name() }};
            map.whenReady(function () {
                var free = map.getSize().x - div.offsetWidth - 40;
                if (!L.DomUtil.hasClass(div, "routemap-panel-collapsed") && free >= {{ this.min_free }}) {
                    map.fitBounds({{ this.bounds|tojson }}, {
                        paddingTopLeft: [div.offsetWidth + 30, 20], paddingBottomRight: [20, 20]
                    });
                }
            });
            {%- endif %}
            L.DomEvent.on(button, "click", function () {
                set(L.DomUtil.hasClass(div, "routemap-panel-collapsed"));
            });
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        content: str,
        position: str = "topleft",
        wide: bool = False,
        bounds: list[list[float]] | None = None,
    ):
        super().__init__()
        self.bounds = bounds
        self.min_free = MIN_FREE_MAP_PX
        self._name = "PanelControl"
        self.content = content
        self.css_class = "routemap-control routemap-panel" + (" routemap-panel-wide" if wide else "")
        self.position = position
        self.open_from = OPEN_FROM_WIDTH_PX

    def render(self, **kwargs):
        from branca.element import Element

        self.get_root().header.add_child(Element(CSS), name="routemap_panel_css")
        super().render(**kwargs)
