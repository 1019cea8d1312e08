"""The web console's static files, served by the API function at `/console/` on the API's origin.

The console is built from `console/` (Vite) into `herald/console_static/`, part of the package and
so of the Lambda asset: deployed and under `herald dev` the same code serves it with the same
headers. Same origin as the API means no CORS and a `connect-src 'self'` policy.

Every answer under `/console` carries a strict Content-Security-Policy (scripts and styles from
this origin only, no inline script, no eval, no framing) and `nosniff`. Files are read once per
process into memory (the built console is a few hundred KB); only files the build produced are
served (no path is ever joined from the request).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PREFIX = "/console"
STATIC_DIR = Path(__file__).resolve().parent.parent / "console_static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald Console</title></head>
<body><h1>The Herald Console is not built</h1>
<p>Build it with <code>make console</code> (needs Node 20+ and npm); <code>make run</code> and
<code>make test</code> build it too.</p></body></html>"""


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@lru_cache(maxsize=1)
def built_files() -> dict[str, tuple[bytes, str]]:
    """Every built file by its path under /console/ (text types only: API Gateway passes text)."""
    files: dict[str, tuple[bytes, str]] = {}
    if not STATIC_DIR.is_dir():
        return files
    for path in STATIC_DIR.rglob("*"):
        kind = _TYPES.get(path.suffix)
        if path.is_file() and kind:
            files[path.relative_to(STATIC_DIR).as_posix()] = (path.read_bytes(), kind)
    return files


def _stage_prefix(event: dict[str, Any]) -> str:
    """`/prod` when called through a REST API's default endpoint (the path API Gateway shows
    the function lacks the stage), else empty (a custom domain, or `herald dev`)."""
    context = event.get("requestContext") or {}
    stage, seen = context.get("stage") or "", context.get("path") or ""
    return f"/{stage}" if stage and stage != "$default" and seen.startswith(f"/{stage}/") else ""


def _response(
    status: int, body: str, content_type: str, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    headers = {"Content-Type": content_type, **SECURITY_HEADERS, **(extra or {})}
    return {
        "statusCode": status,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "body": body,
        "isBase64Encoded": False,
    }


def _error(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    body = json.dumps({"error": {"code": code, "message": message}})
    return _response(status, body, "application/json", {"Cache-Control": "no-store", **(extra or {})})


def serve(event: dict[str, Any]) -> dict[str, Any]:
    """The answer to a request for a path under /console."""
    path, method = event.get("path") or "", (event.get("httpMethod") or "GET").upper()
    if method not in ("GET", "HEAD"):
        return _error(
            405, "method_not_allowed", f"{method} is not allowed on {path}; allowed: GET", {"Allow": "GET"}
        )
    if path == PREFIX:  # the app's relative asset paths need the trailing slash
        return _response(
            308,
            "",
            "text/plain",
            {"Location": f"{_stage_prefix(event)}{PREFIX}/", "Cache-Control": "no-store"},
        )
    files = built_files()
    relative = path[len(PREFIX) + 1 :] or "index.html"
    if not files:
        return _response(503, NOT_BUILT, _TYPES[".html"], {"Cache-Control": "no-store"})
    found = files.get(relative)
    if found is None:
        return _error(404, "not_found", f"no console file {relative}")
    data, kind = found
    # Hashed asset names never change content: cached for a year. The page itself is revalidated,
    # so a new deployment's console is picked up on the next load.
    cache = "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"
    return _response(200, "" if method == "HEAD" else data.decode("utf-8"), kind, {"Cache-Control": cache})
