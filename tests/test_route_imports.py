"""The engine imports nothing above it: names are resolved by a resolver the caller passes."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_loads_no_demographics_or_places():
    code = (
        "import sys, routemap.route\n"
        "bad = [m for m in sys.modules if m.startswith(('routemap.demographics', 'routemap.places', "
        "'routemap.resolve', 'osmnx'))]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
