"""Edge attribute dicts that count their changes, so a compiled graph can tell it is still valid cheaply.

The builder (:mod:`routemap.network.build`) stores every edge's attributes in an :class:`EdgeData`, a
plain ``dict`` in every other respect (same size, pickles, works with networkx and osmnx). Any change to
any ``EdgeData`` (``d["length"] = ...``, ``update``, ``pop``...) bumps :data:`EdgeData.version`, one
counter for all of them. :mod:`routemap.route.compile` records the counter when it compiles a graph
whose edges are all ``EdgeData``: while it has not moved and networkx reports no change to the graph's
structure, the compiled form is valid without comparing millions of edge attributes again.
"""

from __future__ import annotations

from typing import Any


class EdgeData(dict):
    """A ``dict`` of edge attributes whose every change bumps the class-wide :attr:`version`."""

    __slots__ = ()
    #: Changes made to any EdgeData since the process started.
    version: int = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt by the constructor (in C), not item by item through __setitem__: unpickling a cached
        # graph is neither slower than with plain dicts nor counted as changes
        return (EdgeData, (dict(self),))

    def __setitem__(self, key: Any, value: Any) -> None:
        EdgeData.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        EdgeData.version += 1
        super().__delitem__(key)

    def __ior__(self, other: Any) -> EdgeData:  # type: ignore[misc]
        EdgeData.version += 1
        super().update(other)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update like ``dict.update`` (and count the change)."""
        EdgeData.version += 1
        super().update(*args, **kwargs)

    def pop(self, *args: Any) -> Any:
        """Pop like ``dict.pop`` (and count the change)."""
        EdgeData.version += 1
        return super().pop(*args)

    def popitem(self) -> tuple[Any, Any]:
        """Pop an item like ``dict.popitem`` (and count the change)."""
        EdgeData.version += 1
        return super().popitem()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """Set a default like ``dict.setdefault`` (and count the change)."""
        EdgeData.version += 1
        return super().setdefault(key, default)

    def clear(self) -> None:
        """Empty the dict (and count the change)."""
        EdgeData.version += 1
        super().clear()
