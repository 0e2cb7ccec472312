"""Rebuild every embedded dataset under data/ from the originals in ../shared/data/la/.

    python scripts/build_data.py

Runs, in order: build_osm_data.py, build_corridor_data.py, build_places_data.py,
build_demographics_data.py. Each writes its files atomically and a README with provenance.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ["build_osm_data.py", "build_corridor_data.py", "build_places_data.py", "build_demographics_data.py"]


def main() -> int:
    for step in STEPS:
        print(f"== {step}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / step)])
        if code:
            print(f"error: {step} failed with exit code {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
