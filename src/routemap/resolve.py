"""The default stop-name resolver: what a name means when the street network itself does not hold it.

The engine (:mod:`routemap.route.stops`) resolves coordinates, ``"A & B"`` intersections and the network's
own named nodes; every other name goes to a *resolver* the caller passes (``plan_route(..., resolver=)``).
:func:`default_resolver` tries, in order:

1. a neighborhood whose name matches exactly (an area stop), from the neighborhood layer;
2. the embedded gazetteer of named places (:func:`routemap.places.find_place`);
3. a neighborhood by alias or close spelling ("MacArthur Park" is a place first, Westlake second);
4. online geocoding through osmnx/Nominatim, when allowed.

The gazetteer and the neighborhood layer are used only where they cover the network being planned on
(their extents overlap its bbox), so a Helsinki name is never matched against Los Angeles data; the
suggestions for a typo then come from the network's own names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routemap import settings
from routemap.errors import OfflineError, UnknownPlaceError
from routemap.route.stops import Stop

BBox = tuple[float, float, float, float]


def bboxes_overlap(a: BBox, b: BBox) -> bool:
    """Return True when two (west, south, east, north) boxes share any area or edge."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@dataclass
class DefaultResolver:
    """The default resolver (see the module docstring); call it as ``resolver(name, bbox)``.

    Parameters
    ----------
    neighborhoods : GeoDataFrame or path, optional
        The neighborhood layer for area stops (default: the embedded LA layer).
    online : bool
        Geocode names the local data does not know with osmnx (Nominatim).
    places : DataFrame, optional
        A gazetteer like :func:`routemap.places.load_places` returns (default: the embedded one).
    """

    neighborhoods: Any = None
    online: bool = False
    places: Any = None
    _extents: dict[str, BBox | None] = field(default_factory=dict, repr=False)
    _layer: Any = field(default=None, repr=False)
    _memo: dict[tuple, Stop | UnknownPlaceError] = field(default_factory=dict, repr=False)

    def __call__(self, name: str, bbox: BBox) -> Stop:
        """Return the stop ``name`` means on a network covering ``bbox``.

        Raises
        ------
        UnknownPlaceError
            Nothing matches; ``suggestions`` holds the closest names of the layers that cover ``bbox``.
        OfflineError
            The geocoder cannot be reached (one line, within :data:`routemap.settings.REQUESTS_TIMEOUT_S`).
        """
        # the local layers' answer depends only on the name and which layers cover the network
        memo_key = (name, self._covers("neighborhoods", bbox), self._covers("places", bbox))
        hit = self._memo.get(memo_key)
        if isinstance(hit, UnknownPlaceError):
            raise UnknownPlaceError(str(hit), list(hit.suggestions))
        if hit is not None:
            return hit
        try:
            found = self._resolve(name, bbox)
        except UnknownPlaceError as exc:
            if not self.online:
                self._memo[memo_key] = exc
            raise
        if found.kind != "place" or not self.online:
            self._memo[memo_key] = found
        return found

    def _resolve(self, name: str, bbox: BBox) -> Stop:
        suggestions: list[str] = []
        area = self._neighborhood(name, bbox, suggestions)
        if area is not None and _same(area[0], name):
            return Stop(area[0], area=area[1], kind="area")
        place = self._place(name, bbox, suggestions)
        if place is not None:
            return place
        if area is not None:
            return Stop(area[0], area=area[1], kind="area")
        if self.online:
            try:
                return geocode(name)
            except UnknownPlaceError as exc:  # keep the local layers' suggestions for a typo
                raise UnknownPlaceError(str(exc), [*suggestions, *exc.suggestions]) from None
        raise UnknownPlaceError(
            f"no street, place or neighborhood named {name!r} (online=True, --online on the command line, would geocode it)",
            suggestions,
        )

    # -- the local layers, each only where it covers the network --------------------------------------
    def _covers(self, what: str, bbox: BBox) -> bool:
        if what not in self._extents:
            self._extents[what] = self._extent(what)
        extent = self._extents[what]
        return extent is not None and bboxes_overlap(extent, bbox)

    def _extent(self, what: str) -> BBox | None:
        if what == "places":
            df = self._places()
            if not len(df):
                return None
            return (
                float(df["lon"].min()),
                float(df["lat"].min()),
                float(df["lon"].max()),
                float(df["lat"].max()),
            )
        try:
            west, south, east, north = self._hoods().total_bounds
        except ImportError:
            return None
        return float(west), float(south), float(east), float(north)

    def _hoods(self) -> Any:
        """Return the neighborhood layer in EPSG:4326, read once per resolver."""
        if self._layer is None:
            from routemap.demographics import load_neighborhoods

            layer = load_neighborhoods(self.neighborhoods)
            self._layer = layer.to_crs(4326) if layer.crs is not None else layer
        return self._layer

    def _places(self) -> Any:
        from routemap.places import load_places

        return load_places() if self.places is None else self.places

    def _place(self, name: str, bbox: BBox, suggestions: list[str]) -> Stop | None:
        from routemap.places import find_place

        if not self._covers("places", bbox):
            return None
        try:
            place = find_place(name, self._places())
        except UnknownPlaceError as exc:
            suggestions.extend(exc.suggestions)
            return None
        return Stop(place.name, lat=place.lat, lon=place.lon, kind="place")

    def _neighborhood(self, name: str, bbox: BBox, suggestions: list[str]) -> tuple[str, Any] | None:
        if not self._covers("neighborhoods", bbox):
            return None
        from routemap.demographics import find_neighborhood

        try:
            return find_neighborhood(name, layer=self._hoods())
        except UnknownPlaceError as exc:
            suggestions.extend(exc.suggestions)
            return None


def _same(a: str, b: str) -> bool:
    from routemap.route.stops import normalize_name

    return normalize_name(a) == normalize_name(b)


def default_resolver(
    *, neighborhoods: Any = None, online: bool = False, places: Any = None
) -> Callable[[str, BBox], Stop]:
    """Return the default stop-name resolver (see the module docstring).

    Parameters
    ----------
    neighborhoods : GeoDataFrame or path, optional
        The neighborhood layer for area stops (default: the embedded LA layer).
    online : bool
        Geocode names the local data does not know (osmnx/Nominatim; needs the internet).
    places : DataFrame, optional
        The gazetteer (default: the embedded one).
    """
    return DefaultResolver(neighborhoods=neighborhoods, online=online, places=places)


def geocode(name: str) -> Stop:
    """Return the point osmnx's geocoder (Nominatim) gives for ``name``.

    The request times out after :data:`routemap.settings.REQUESTS_TIMEOUT_S`; a failed connection is one
    line, not a traceback.

    Raises
    ------
    UnknownPlaceError
        The geocoder found nothing.
    OfflineError
        The geocoder cannot be reached.
    """
    import osmnx as ox
    import requests

    ox.settings.requests_timeout = settings.REQUESTS_TIMEOUT_S
    try:
        lat, lon = ox.geocode(name)
    except requests.exceptions.RequestException as exc:
        raise OfflineError(
            f"could not reach the geocoder to look up {name!r} ({type(exc).__name__}); check the "
            "internet connection, or give the stop as 'lat,lon' or a name in the local data"
        ) from None
    except Exception as exc:  # osmnx raises several types for "nothing found"
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnknownPlaceError(f"geocoding found no place named {name!r}: {message}") from None
    return Stop(name, lat=float(lat), lon=float(lon), kind="place")
