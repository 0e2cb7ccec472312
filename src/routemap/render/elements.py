"""Small folium elements routemap needs and folium does not escape for us.

Every string a user typed reaches the page through :func:`escape_html` (HTML context) and then the
``tojson`` filter (JavaScript string context), never through a JS template literal or raw HTML.
"""

from __future__ import annotations

import html
from typing import Any

from branca.element import MacroElement
from folium.template import Template

_EXTRA_ENTITIES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def escape_html(text: Any) -> str:
    """Return ``text`` as HTML that displays it literally and is inert in JS template literals too.

    Besides ``& < > " '`` it escapes the backtick, ``$`` and the backslash, because folium puts some
    strings (tooltips, popups) into JavaScript template literals, where ``${...}`` would run code.

    Parameters
    ----------
    text : Any
        Anything; ``str(text)`` is escaped.

    Returns
    -------
    str
        The escaped text.
    """
    return html.escape(str(text), quote=True).translate(_EXTRA_ENTITIES)


class BindContent(MacroElement):
    """Bind a popup or a tooltip holding trusted HTML to the parent layer.

    ``content`` must already be safe HTML (built with :func:`escape_html`); it reaches JavaScript as a
    JSON string, so no quoting can break out of it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bind{{ this.kind }}(
            {{ this.content|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, kind: str = "popup", **options: Any):
        super().__init__()
        self._name = "BindContent"
        if kind not in ("popup", "tooltip"):
            raise ValueError(f"kind must be 'popup' or 'tooltip', not {kind!r}")
        self.kind = "Popup" if kind == "popup" else "Tooltip"
        self.content = content
        self.options = options


class HtmlControl(MacroElement):
    """A Leaflet control (title, legend, note) showing trusted HTML at a corner of the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            div.innerHTML = {{ this.content|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, position: str = "bottomright", css_class: str = ""):
        super().__init__()
        self._name = "HtmlControl"
        self.content = content
        self.position = position
        self.css_class = f"routemap-control {css_class}".strip()


class Attribution(MacroElement):
    """Add data-source credits to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {% for text in this.texts %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ text|tojson }});
        {% endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, texts: list[str]):
        super().__init__()
        self._name = "Attribution"
        self.texts = list(texts)


class ZoomFillOpacity(MacroElement):
    """Fade the parent layer's fill as the map zooms in (``opacities``: [min zoom, fill opacity], ascending).

    Shading that helps the overview hides the streets and their names close up.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (layer, steps) {
            function fade() {
                var map = layer._map;
                if (!map) { return; }
                var z = map.getZoom(), opacity = steps[0][1];
                steps.forEach(function (s) { if (z >= s[0]) { opacity = s[1]; } });
                layer.setStyle({fillOpacity: opacity});
            }
            layer.on("add", fade);
            {{ this._parent._parent.get_name() }}.on("zoomend", fade);
            {{ this._parent._parent.get_name() }}.whenReady(fade);
        })({{ this._parent.get_name() }}, {{ this.opacities|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, opacities: list[tuple[int, float]]):
        super().__init__()
        self._name = "ZoomFillOpacity"
        self.opacities = [list(o) for o in opacities]


#: CSS for routemap's controls and markers, plain (no icon fonts, so it works offline).
CSS = """
<style>
.routemap-control { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, -apple-system, "Segoe UI",
  Roboto, Arial, sans-serif; color: #222; max-width: 320px; }
.routemap-title { font-size: 16px; font-weight: 600; max-width: 460px; }
.routemap-title small { display: block; font-weight: 400; font-size: 12px; color: #444; }
.routemap-note { background: #fff7d6; border: 1px solid #e0c060; }
.routemap-legend-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.routemap-swatch { display: inline-block; width: 22px; height: 4px; border-radius: 2px; }
.routemap-ramp { height: 10px; width: 200px; border: 1px solid #999; margin: 3px 0; }
.routemap-ramp-labels { display: flex; justify-content: space-between; width: 202px; }
.routemap-mile { width: 20px; height: 20px; line-height: 17px; border-radius: 50%; background: #fff;
  border: 2px solid currentColor; text-align: center; font: bold 11px Arial, sans-serif;
  box-sizing: border-box; }
.routemap-mile span { color: #111; }
.routemap-end { padding: 1px 5px; border-radius: 4px; color: #fff; font: bold 11px Arial, sans-serif;
  white-space: nowrap; border: 2px solid #fff; box-shadow: 0 1px 3px rgba(0,0,0,0.5); }
</style>
"""
