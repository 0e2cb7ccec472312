"""Fetch the JavaScript the offline street basemap needs from the npm registry, pinned and checksummed.

    python scripts/vendor_js.py            # download, verify, write src/routemap/render/static/
    python scripts/vendor_js.py --check    # verify the committed files against the manifest only

Each package is downloaded as the registry's tarball and checked against the registry's ``dist.integrity``
(SHA-512, Subresource Integrity format) before anything is extracted. Only the dist file the map inlines and
the license texts are kept; ``static/MANIFEST.json`` records every kept file's SHA-256 with the package,
version, tarball URL and integrity it came from. The renderer only reads the files (no runtime checks).

Leaflet.VectorGrid's dist bundle contains pbf, vector-tile, topojson-client and whatwg-fetch: their license
texts are vendored too (from the versions VectorGrid 1.3.0's dependency ranges resolve to).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "src" / "routemap" / "render" / "static"
MANIFEST = STATIC / "MANIFEST.json"
REGISTRY = "https://registry.npmjs.org"

#: (package, pinned version, {file in the tarball: file written under static/}).
#: VectorGrid ships no LICENSE file: its license (Beerware) is the README's "Legalese" section.
PACKAGES = (
    (
        "leaflet.vectorgrid",
        "1.3.0",
        {
            "package/dist/Leaflet.VectorGrid.bundled.min.js": "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
            "package/README.md#Legalese": "leaflet.vectorgrid/LICENSE",
        },
    ),
    ("pbf", "3.0.3", {"package/LICENSE": "leaflet.vectorgrid/bundled-licenses/pbf-LICENSE"}),
    (
        "vector-tile",
        "1.3.0",
        {"package/LICENSE.txt": "leaflet.vectorgrid/bundled-licenses/vector-tile-LICENSE"},
    ),
    (
        "topojson-client",
        "2.1.0",
        {"package/LICENSE.md": "leaflet.vectorgrid/bundled-licenses/topojson-client-LICENSE"},
    ),
    (
        "whatwg-fetch",
        "2.0.4",
        {"package/LICENSE": "leaflet.vectorgrid/bundled-licenses/whatwg-fetch-LICENSE"},
    ),
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (https registry URL)
        return resp.read()


def _check_integrity(blob: bytes, integrity: str, what: str) -> None:
    algo, _, digest = integrity.partition("-")
    if algo != "sha512":
        raise SystemExit(f"{what}: registry integrity is {algo}, expected sha512")
    if base64.b64encode(hashlib.sha512(blob).digest()).decode() != digest:
        raise SystemExit(f"{what}: tarball does not match the registry's sha512 integrity; not vendoring it")


def _legalese(readme: str) -> str:
    match = re.search(r"## Legalese\s*(.*)", readme, flags=re.S)
    if not match:
        raise SystemExit("leaflet.vectorgrid README has no Legalese section to take the license from")
    return (
        "Leaflet.VectorGrid (https://github.com/IvanSanchez/Leaflet.VectorGrid)\n\n" + match.group(1).strip()
    )


def vendor() -> dict:
    files: dict[str, dict] = {}
    for name, version, wanted in PACKAGES:
        meta = json.loads(_get(f"{REGISTRY}/{name}/{version}"))
        tarball, integrity = meta["dist"]["tarball"], meta["dist"]["integrity"]
        blob = _get(tarball)
        _check_integrity(blob, integrity, f"{name}@{version}")
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for member, out in wanted.items():
                path, _, section = member.partition("#")
                fh = tar.extractfile(path)
                if fh is None:
                    raise SystemExit(f"{name}@{version} has no {path}")
                data = fh.read()
                if section == "Legalese":
                    data = (_legalese(data.decode("utf-8")) + "\n").encode("utf-8")
                target = STATIC / out
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                files[out] = {
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "package": name,
                    "version": version,
                    "from": member,
                    "tarball": tarball,
                    "integrity": integrity,
                }
    manifest = {"generated_by": "scripts/vendor_js.py", "files": dict(sorted(files.items()))}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def check() -> list[str]:
    """Return the vendored files whose SHA-256 differs from the manifest (or that are missing)."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    bad = []
    for rel, entry in manifest["files"].items():
        path = STATIC / rel
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            bad.append(rel)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files")
    args = parser.parse_args()
    if args.check:
        bad = check()
        print("all vendored files match MANIFEST.json" if not bad else f"mismatch: {', '.join(bad)}")
        sys.exit(1 if bad else 0)
    manifest = vendor()
    for rel, entry in manifest["files"].items():
        print(f"{entry['sha256']}  {rel}  ({entry['package']}@{entry['version']})")


if __name__ == "__main__":
    main()
