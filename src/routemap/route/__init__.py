"""Route planning: stops (and a target length) -> a :class:`Route` on a street graph.

``compile`` turns a graph into scipy arrays (largest strongly connected part), ``profiles`` holds the cost
multipliers, ``stops`` resolves what users write, ``target`` searches lengths, ``plan`` ties them together; ``reach``
counts people near a route, ``turns`` straightens it, ``metrics`` measures it, ``alternatives`` plans a
few different routes.
"""

from routemap.route.alternatives import plan_routes
from routemap.route.model import Route, RouteStop
from routemap.route.plan import parse_length, plan_route
from routemap.route.profiles import PROFILES
from routemap.route.stops import Stop

__all__ = ["PROFILES", "Route", "RouteStop", "Stop", "parse_length", "plan_route", "plan_routes"]
