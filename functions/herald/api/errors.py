"""The API's one error shape, `{"error": {"code", "message", "field"?}}`, and the one table that
gives it to every exception.

Routes raise domain errors (or `ApiError` for what only HTTP knows: an unknown id, a bad field, a
state conflict the route itself found) and never build an error answer; `ANSWERS` says, per
exception type, which status, code and message the caller gets. `install` registers it on the
resolver once. What the table does not know is a bug: logged in full, answered 500 without
details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import BotoCoreError, ClientError

from herald.adapters import sts
from herald.dal.codec import InvalidCursorError
from herald.domain import policy, ssrf
from herald.logic import accept, console_sessions, failed_notifications, inbound, onecodex, sample_events

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = Logger(child=True)


class ApiError(Exception):
    """An answer only HTTP knows (an unknown id, a bad field, a conflict the route found)."""

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

    def response(self) -> Response[str]:
        return error_response(self.status, self.code, self.message, self.field, self.headers or None)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def no_route(method: str, path: str) -> ApiError:
    return ApiError(404, "not_found", f"no route for {method} {path}")


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
) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers=headers,
    )


def internal_error() -> Response[str]:
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


# --- the table -------------------------------------------------------------------------------------
# 503 with Retry-After: the request was not carried out, and trying again shortly is the remedy.
RETRY_SOON = {"Retry-After": "1"}


@dataclass(frozen=True)
class Answer:
    """What the caller gets for one kind of exception."""

    status: int
    code: str
    message: Callable[[Any], str] = str  # from the exception
    field: str | None = None  # the request field this error is always about
    named: bool = False  # the message starts with the field ("payload: …")
    headers: dict[str, str] | None = None

    def respond(self, exc: Exception, field: str | None = None, reported: bool = True) -> Response[str]:
        field = field or self.field
        message = self.message(exc)
        if self.named and field:
            message = f"{field}: {message}"
        return error_response(self.status, self.code, message, field if reported else None, self.headers)


def _filter_syntax(exc: Any) -> str:
    return f"{exc}\n{exc.caret()}"


ANSWERS: dict[type[Exception], Answer] = {
    # Events refused as they come in (the field is the route's: see `about`).
    accept.PayloadTooLargeError: Answer(413, "payload_too_large", named=True),
    accept.PayloadShapeError: Answer(400, "invalid_request", named=True),
    accept.EventConflictError: Answer(409, "conflict"),
    accept.IngestUnavailableError: Answer(503, "unavailable", headers=RETRY_SOON),
    onecodex.WebhookRejected: Answer(401, "invalid_signature"),
    onecodex.WebhookInvalid: Answer(400, "invalid_request"),
    # Lists, channels, inbound webhooks, the console.
    InvalidCursorError: Answer(
        400, "invalid_request", lambda _: "not a cursor this API returned for this list", "cursor", named=True
    ),
    ssrf.UnsafeTargetError: Answer(400, "invalid_request", field="address", named=True),
    # A target's address (`GET /api/targetPolicy`) that is not the queue's or topic's ARN.
    policy.PolicyInputError: Answer(400, "invalid_request", field="address", named=True),
    inbound.TooManyInboundWebhooks: Answer(409, "conflict"),
    console_sessions.SessionError: Answer(401, "invalid_link", field="link"),
    sts.CredentialsUnavailable: Answer(
        503, "unavailable", lambda exc: f"Herald's AWS account is unknown ({exc})"
    ),
    # Failed notifications and test events.
    failed_notifications.NotFailedError: Answer(409, "conflict"),
    failed_notifications.QueueUnavailableError: Answer(
        503, "unavailable", lambda _: "the deliveries queue did not accept the message; try again"
    ),
    sample_events.QueueUnavailableError: Answer(
        503,
        "unavailable",
        lambda _: "the deliveries queue did not accept the test event; try again",
        headers=RETRY_SOON,
    ),
    # AWS unreachable after boto3's own retries: 503, never a 500 (throttled: TRANSIENT_AWS_CODES).
    BotoCoreError: Answer(
        503, "unavailable", lambda _: "Herald's storage is unreachable; retry shortly", headers=RETRY_SOON
    ),
}

# The filter engine (and `regex`) is ~20 ms of the API's cold start that only requests carrying a
# filter need, so its error is known by name: if the engine is not loaded, nothing raised it.
ANSWERS_BY_NAME: dict[str, Answer] = {
    "herald.filters.errors.FilterSyntaxError": Answer(
        400, "invalid_filter", _filter_syntax, "filterExpression", named=True
    ),
}

# AWS refusing for now (throttled, busy): trying again later is the remedy. Any other AWS error
# is a bug or a misconfiguration: a 500, logged.
TRANSIENT_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "ServiceUnavailable",
        "InternalServerError",
        "TransactionConflictException",
    }
)
_STORAGE_BUSY = Answer(
    503,
    "unavailable",
    lambda _: "Herald's storage is busy; retry shortly (idempotent with the same id)",
    headers=RETRY_SOON,
)


def answer_for(exc: Exception) -> Answer | None:
    """The table's answer for this exception (its most specific class listed), if any."""
    for cls in type(exc).__mro__:
        known = ANSWERS.get(cls) or ANSWERS_BY_NAME.get(f"{cls.__module__}.{cls.__qualname__}")
        if known is not None:
            return known
    return None


class AboutField(Exception):
    """A domain error about one field of the request, named by the route (see `about`)."""

    def __init__(self, field: str, reported: bool, cause: Exception) -> None:
        super().__init__(str(cause))
        self.field, self.reported, self.cause = field, reported, cause


@contextmanager
def about(field: str, *errors: type[Exception], reported: bool = True) -> Iterator[None]:
    """Errors of these types raised inside are about this request field: the table's answer names
    it (`error.field`, unless not `reported`, and the message's prefix where the table says so)."""
    try:
        yield
    except errors as exc:
        raise AboutField(field, reported, exc) from exc


def respond(exc: Exception, path: str) -> Response[str] | None:
    """The table's answer to an exception a route let out (None: nobody expected it)."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, AboutField):
        known = answer_for(exc.cause)
        return None if known is None else known.respond(exc.cause, exc.field, exc.reported)
    if isinstance(exc, RequestValidationError):
        message, field = describe_validation(exc.errors())
        return error_response(400, "invalid_request", message, field)
    if isinstance(exc, ServiceError):  # Powertools' own HTTP errors
        return error_response(exc.status_code, "error", str(exc.msg))
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in TRANSIENT_AWS_CODES:
            return None
        logger.warning("AWS refused a request for now", error_code=code, path=path)
        return _STORAGE_BUSY.respond(exc)
    if isinstance(exc, BotoCoreError):
        logger.warning("AWS unreachable", error=type(exc).__name__, path=path)
    known = answer_for(exc)
    return None if known is None else known.respond(exc)


def install(app: APIGatewayRestResolver) -> None:
    """Register the table on the resolver: one handler for whatever a route lets out."""

    def answer(exc: Exception) -> Response[str]:
        path = app.current_event.path
        response = respond(exc, path)
        if response is None:
            # The one place that sees what nobody handled: logged in full, answered without details.
            logger.exception("unhandled error in the API", path=path)
            return internal_error()
        return response

    app.exception_handler(Exception)(answer)


# --- validation errors -----------------------------------------------------------------------------
# Model-level validators name their field first ("projects: …"); take it as the error's field.
_FIELD_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*): ")
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# Names Powertools gives the parameters, as the API documents them.
_LOCATIONS = ("body", "query", "path", "header")


def describe_validation(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
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
