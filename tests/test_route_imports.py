"""The route engine stands on its own: importing it loads nothing above it in the pipeline."""

from __future__ import annotations

import subprocess
import sys


def test_importing_route_loads_no_demographics_or_places():
    code = (
        "import sys, routemap.route; "
        "bad = sorted(m for m in sys.modules if m.startswith(('routemap.demographics', 'routemap.places'))); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
