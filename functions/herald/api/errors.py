"""The API's one error shape: `{"error": {"code", "message", "field"?}}`."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def conflict(message: str, field: str | None = None) -> ApiError:
    return ApiError(409, "conflict", message, field)


def invalid(field: str, message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, f"{field}: {message}", field)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers=headers,
    )


# Model-level validators name their field first ("projects: …"); take it as the error's field.
_FIELD_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*): ")
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# Names Powertools gives the parameters, as the API documents them.
_LOCATIONS = ("body", "query", "path", "header")


def describe_validation(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """Turn pydantic/Powertools validation errors into one message naming the field."""
    if not errors:
        return "invalid request", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in _LOCATIONS]
    field = ".".join(loc) or None
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "the request body is not valid JSON", None
    msg = str(first.get("msg", "invalid value"))
    for prefix in _PYDANTIC_PREFIXES:
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind == "missing":
        msg = "is required" if field else "a JSON request body is required"
    elif kind == "extra_forbidden":
        msg = "is not a recognised field"
    elif kind == "model_attributes_type" and not field:
        msg = "the request body must be a JSON object"
    if field is None and (named := _FIELD_PREFIX.match(msg)):
        field, message = named.group(1), msg
    else:
        message = f"{field}: {msg}" if field else msg
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return message, field
