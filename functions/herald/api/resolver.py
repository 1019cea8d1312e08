"""Herald's resolver: Powertools' REST resolver, plus what Herald's routing needs that Powertools'
public API does not offer. Every use of Powertools' internals in the API is in this class, and
`tests/unit/api/test_resolver.py` pins the behaviour it relies on.

- Ids never contain `:`. It separates a resource from an action (`/{id}:rotateSecret`, Google's
  custom methods), so `PUT …/{id}:rotateSecret` must find no route (405), not a PUT of the
  resource "{id}:rotateSecret". Powertools compiles `<name>` to a segment pattern that includes
  `:`, and offers no way to change it: Router prefixes do not touch it, middleware runs after
  request validation (the PUT would be a 400 naming the id, not a 405), and a catch-all route
  would have to repeat the route table. So `_compile_regex`, which Powertools' own resolvers
  override the same way, is overridden here. Project ids may contain `:` and are never a path's
  last segment.
- 405 with `Allow` and refusing unknown query parameters need the route table and the route a
  request matched, which Powertools keeps in private attributes: `routes` and `matched_route`
  read them.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Route, Router

# Powertools' own segment pattern (RFC 3986's unreserved and sub-delims, its `_SAFE_URI` and
# `_UNSAFE_URI`), without the colon; and with it, for project ids.
SEGMENT = r"[-._~()'!*@,;=+&$%<> \[\]{}|^\w]+"
PROJECT_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAMETER = re.compile(r"<(\w+)>")


class HeraldResolver(APIGatewayRestResolver):
    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
        """A route's pattern: Powertools' for static routes; ours, colon-free ids, for dynamic ones.

        Dynamic routes match exactly (`\\Z`: no trailing slash, no final newline).
        """
        if not _PARAMETER.search(rule):
            compiled: re.Pattern[str] = APIGatewayRestResolver._compile_regex(rule)
            return compiled

        def group(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"(?P<{name}>{PROJECT_SEGMENT if name == 'project_id' else SEGMENT})"

        return re.compile("^" + _PARAMETER.sub(group, rule) + r"\Z")

    def routes(self) -> list[Route]:
        """Every registered route: static ones first, as Powertools matches them."""
        return [*self._static_routes, *self._dynamic_routes]

    def documented_routes(self) -> list[Route]:
        """The routes the OpenAPI document shows (not Powertools' not-found route, nor /swagger)."""
        return [route for route in self.routes() if route.include_in_schema]

    def allowed_methods(self, path: str) -> list[str]:
        """Methods some route serves for this path (empty: the path is unknown)."""
        return sorted({route.method for route in self.routes() if route.rule.match(path)})

    def matched_route(self) -> Route | None:
        """The route the current request matched (Powertools' not-found route included)."""
        route: Any = self.context.get("_route")
        return route if isinstance(route, Route) else None


def new_router() -> Router:
    """A route module's Router."""
    return Router()  # type: ignore[no-untyped-call]  # Powertools' Router.__init__ lacks `-> None`
