"""The Run Against ICE with routemap as a library, start to finish.

    python examples/run_against_ice.py --out ice-out

Loads the embedded LA corridor network (OpenStreetMap, from vector tiles), plans 15 miles from Liberty Park
in Koreatown through MacArthur Park and Chinatown to the Metropolitan Detention Center, joins the census
figures of the neighborhoods it passes, and writes the map, GPX, GeoJSON, cue sheet and a print PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import routemap
from routemap.data import embedded_corridor_tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("ice-out"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    # 1. The street network: the embedded corridor, Koreatown to Boyle Heights.
    G = routemap.load_network(embedded_corridor_tiles(), network_type="run")
    print(f"network: {len(G)} nodes, {G.number_of_edges()} edges")

    # 2. The route: ordered stops (coordinates, named places), 15 miles within 1%, the extra miles placed
    #    where the most foreign-born residents live within 400 m, few turns.
    route = routemap.plan_route(
        G,
        [(34.0617, -118.3040), "MacArthur Park", "Chinatown Central Plaza", "Metropolitan Detention Center"],
        target_length="15mi",
        profile="run",
        objective="reach",
        reach="foreign_born",
        name="Run Against ICE",
    )
    print(f"turns: {route.turns} ({route.turns_per_mile:.2f} per mile)")
    print(route)
    for stop in route.stops:
        print(f"  mile {stop.position_mi:5.2f}  {stop.name}")

    # 3. Who lives along it: neighborhoods passed (miles) and people within 400 m.
    layer = routemap.neighborhood_demographics()
    demo = routemap.route_demographics(route, layer=layer, buffer_m=400)
    print(demo.neighborhoods[["name", "miles"]].to_string(index=False))
    near = demo.to_dict()["near_route"]
    print(f"within 400 m: {near['population']:,.0f} people, {near['pct_foreign_born']:.1f}% foreign-born")

    # 4. The map and the exports.
    m = routemap.render_map(route, neighborhoods=layer, metric="pct_foreign_born", title="Run Against ICE")
    from routemap.render import save_map

    save_map(m, out / "route.html")
    routemap.write_gpx(route, out / "route.gpx")
    routemap.write_geojson(route, out / "route.geojson")
    routemap.write_cue_sheet(route, out / "cues.csv")
    routemap.write_png(route, out / "route.png", neighborhoods=layer)
    print(f"map: {out / 'route.html'}")


if __name__ == "__main__":
    main()
