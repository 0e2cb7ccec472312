"""Build data/osm/la_central.osm.pbf from the five Overpass JSON files of the shared LA data.

Merges the files by (type, id), the file with the newest ``timestamp_osm_base`` winning, keeps the ``highway``
ways with the tags routing needs and the nodes they reference, and writes a PBF with pyosmium plus
data/osm/README.md (sources, sha256, timestamps, attribution).

    python scripts/build_osm_data.py [--shared DIR] [--out data/osm]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import osmium

from routemap import settings
from routemap._files import atomic_path, atomic_write
from routemap.network.build import NODE_TAGS
from routemap.network.osm import tag_keys
from routemap.network.overpass import (
    merge_overpass,
    osm_base,
    read_overpass_document,
    redrawn_ways,
)

OUT_NAME = "la_central.osm.pbf"


def build(shared_osm: Path, out_dir: Path) -> Path:
    """Write the merged PBF and its README into ``out_dir``; return the PBF path."""
    files = sorted(shared_osm.glob("overpass_*.json"))
    if not files:
        raise SystemExit(f"no overpass_*.json files in {shared_osm}")
    docs = [read_overpass_document(f) for f in files]
    nodes, ways, way_rank, _ = merge_overpass(docs)
    dropped = redrawn_ways(nodes, ways, way_rank)
    for way_id in dropped:
        del ways[way_id]
    keys = tag_keys()
    kept_ways = {wid: w for wid, w in ways.items() if "highway" in (w.get("tags") or {})}
    used = {n for w in kept_ways.values() for n in w["nodes"]}
    missing = used - nodes.keys()
    newest = max(t for t in (osm_base(d) for d in docs) if t)

    header = osmium.io.Header()
    header.set("generator", "routemap scripts/build_osm_data.py")
    header.set("osmosis_replication_timestamp", newest)
    pbf = out_dir / OUT_NAME
    with atomic_path(pbf) as tmp:
        writer = osmium.SimpleWriter(str(tmp), header=header)
        try:
            for nid in sorted(used - missing):
                n = nodes[nid]
                tags = {k: v for k, v in (n.get("tags") or {}).items() if k in NODE_TAGS}
                writer.add_node(osmium.osm.mutable.Node(id=nid, location=(n["lon"], n["lat"]), tags=tags))
            for wid in sorted(kept_ways):
                w = kept_ways[wid]
                tags = {k: v for k, v in w["tags"].items() if k in keys}
                writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=w["nodes"], tags=tags))
        finally:
            writer.close()
    _write_readme(out_dir, files, docs, pbf, len(used - missing), len(kept_ways), keys, missing, dropped)
    return pbf


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_readme(out_dir, files, docs, pbf, n_nodes, n_ways, keys, missing, dropped) -> None:
    rows = "\n".join(
        f"| `{f.name}` | {osm_base(d)} | `{_sha256(f)}` |"
        for f, d in sorted(zip(files, docs), key=lambda fd: osm_base(fd[1]) or "")
    )
    text = f"""# data/osm: embedded OpenStreetMap streets of central Los Angeles

`{pbf.name}` ({pbf.stat().st_size / 1e6:.2f} MB, sha256 `{_sha256(pbf)}`): {n_nodes:,} nodes and
{n_ways:,} `highway` ways, the five Overpass API responses of `shared/data/la/osm/` merged by OSM
(type, id); where an element is in several files the file with the newest `timestamp_osm_base` wins.
`routemap.data.embedded_osm_pbf()` points here; `routemap network info` loads it by default.

© OpenStreetMap contributors. Available under the Open Database License (ODbL 1.0):
<https://www.openstreetmap.org/copyright>. Attribute "© OpenStreetMap contributors" wherever the data or a
map made from it is shown.

## Sources (oldest first)

| file | OSM data as of (`timestamp_osm_base`) | sha256 |
|---|---|---|
{rows}

The PBF header's `osmosis_replication_timestamp` is the newest of these; the walk files are from
2022-12/2023-01, the drive file (Chinatown, Echo Park, Boyle Heights; no footways) from 2025-04.

## What was kept

- every way with a `highway` tag, with only the tags routing needs: {", ".join(f"`{k}`" for k in keys)};
- the nodes those ways reference, with their `highway`, `junction`, `railway`, `ref` tags;
- no versions, timestamps or changesets: Overpass `out body` responses do not carry them.
{
        f"- {len(missing)} referenced nodes were absent from every file."
        if missing
        else "- every referenced node is present (no way is cut)."
    }

Ways redrawn under new ids between 2022 and 2025 would appear twice (old and new id, nearly the same
line). `routemap.network.overpass.redrawn_ways` drops an older file's way when at least 90% of its length
lies within 2 m of newer files' ways with the same `highway` and `name`: {len(dropped)} dropped
({", ".join(map(str, dropped)) or "none"}).

## Rebuild

    python scripts/build_osm_data.py            # reads ../shared/data/la/osm, writes data/osm/
"""
    with atomic_write(out_dir / "README.md") as fh:
        fh.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=settings.shared_la_dir() / "osm")
    parser.add_argument("--out", type=Path, default=settings.data_dir() / "osm")
    args = parser.parse_args()
    pbf = build(args.shared, args.out)
    print(f"wrote {pbf} ({pbf.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
