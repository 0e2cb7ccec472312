"""Route planning: stops -> a Route of a target length (the planner lands in ``plan.py``)."""

from routemap.route.model import Route, RouteStop

__all__ = ["Route", "RouteStop"]
