"""The raw request, bounded before routing: its path, its size, its encoding, its JSON.

Every check here runs before anything parses the body, on public routes too, and refuses with the
API's error shape (`ApiError`), never a traceback.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from herald.api.errors import ApiError
from herald.domain import jsontext, limits

MAX_BODY_BYTES = limits.MAX_BODY_BYTES
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_path(path: str) -> None:
    if _CONTROL.search(path):  # no route has one; and `$` would match before a final newline
        raise ApiError(404, "not_found", "no route for this path")


def check_size(event: dict[str, Any]) -> None:
    if body_bytes(event) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", limits.BODY_TOO_LARGE)


def body_bytes(event: dict[str, Any]) -> int:
    """The body's size in bytes, without decoding it (base64: from its length)."""
    body = event.get("body") or ""
    if isinstance(body, bytes | bytearray):
        return len(body)
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))


def check_utf8(event: dict[str, Any]) -> None:
    """A base64 body (API Gateway's binary passthrough) must decode to UTF-8 text."""
    body = event.get("body") or ""
    if body and event.get("isBase64Encoded") and not _utf8(body):
        raise ApiError(400, "invalid_request", "the request body is not valid JSON (not UTF-8 text)")


def _utf8(encoded: str | bytes) -> bool:
    try:
        base64.b64decode(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def check_json(event: dict[str, Any]) -> None:
    """Refuse a body no receiver could parse (NaN, Infinity, lone surrogates…) before routing."""
    body = event["body"]
    try:
        jsontext.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
    except jsontext.JsonTooComplex as exc:  # RFC 8259 lets a parser bound depth and size
        raise ApiError(
            400, "invalid_request", f"the request body is not valid JSON as Herald takes it: {exc}"
        ) from None
    except jsontext.NotJson as exc:
        raise ApiError(400, "invalid_request", f"the request body is not valid JSON: {exc}") from None


def treat_body_as_json(raw_event: dict[str, Any]) -> None:
    """Herald speaks only JSON: parse every body as JSON, whatever Content-Type says.

    ICA's clients send `application/vnd.illumina.v3+json` and curl defaults to form encoding;
    both would otherwise be refused before reaching the JSON parser, which names real problems.
    """
    headers = {k: v for k, v in (raw_event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    raw_event["headers"] = headers
    multi = raw_event.get("multiValueHeaders")
    if multi:
        multi = {k: v for k, v in multi.items() if k.lower() != "content-type"}
        multi["Content-Type"] = ["application/json"]
        raw_event["multiValueHeaders"] = multi
