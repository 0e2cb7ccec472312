"""Errors routemap raises: one sentence for a person, saying what is wrong and what to do.

Every error derives from :class:`RoutemapError`; the CLI prints its message on one line and exits
non-zero (``--debug`` shows the traceback).
"""

from __future__ import annotations


class RoutemapError(Exception):
    """Base class of every error routemap raises on purpose."""


class InputFileError(RoutemapError):
    """A file is missing, unreadable, corrupt or not in the expected format."""


class NetworkError(RoutemapError):
    """A street network cannot be built or used (no streets in the bbox, no connected part...)."""


class StopError(RoutemapError):
    """A stop cannot be resolved or used."""


class UnknownPlaceError(StopError):
    """A street, intersection or place name matches nothing; the message lists the closest names."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.suggestions = list(suggestions or [])


class StopTooFarError(StopError):
    """A stop lies farther than the allowed distance from any street of the network."""

    def __init__(self, message: str, distance_m: float):
        super().__init__(message)
        self.distance_m = float(distance_m)


class UnreachableStopError(StopError):
    """A stop cannot be reached from the previous stop on the network."""


class TargetLengthError(RoutemapError):
    """The target length cannot be met (below the minimum through the stops, or not found)."""

    def __init__(self, message: str, minimum_m: float | None = None):
        super().__init__(message)
        self.minimum_m = minimum_m


class DemographicsError(RoutemapError):
    """A neighborhood or census layer is unusable (missing name column, no CRS, no GEOID match...)."""


class SpecError(RoutemapError):
    """A route-spec (YAML) file is invalid; the message names the file, line and field."""


class OfflineError(RoutemapError):
    """The work needs data that is not available offline."""
