"""The request being answered: who is calling (API key, console session) and the services it uses.

Set by the gate in `app.resolve` before any route runs, read by routes; context variables, so
concurrent requests of the local runtime's threads never see each other's caller.
"""

from __future__ import annotations

from contextvars import ContextVar

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from herald.api.errors import ApiError
from herald.dal.console_sessions import ConsoleStore
from herald.domain.models import ApiKey
from herald.logic import console_sessions
from herald.logic.services import Services, get_services

_principal: ContextVar[ApiKey | None] = ContextVar("herald_principal", default=None)
# The session behind the current request (None: an API key, or no credentials).
_session: ContextVar[console_sessions.Session | None] = ContextVar("herald_console_session", default=None)


def services() -> Services:
    return get_services()


def set_caller(key: ApiKey | None, session: console_sessions.Session | None = None) -> None:
    _principal.set(key)
    _session.set(session)


def principal() -> ApiKey:
    key = _principal.get()
    if key is None:  # the gate in `app.resolve` sets it before every non-public route
        raise ApiError(401, "unauthorized", "missing X-API-Key header")
    return key


def current_session() -> console_sessions.Session | None:
    return _session.get()


def console_store() -> ConsoleStore:
    return services().console


def base_path(event: BaseProxyEvent) -> str:
    """The stage prefix of a REST API's default endpoint (none behind a custom domain or locally)."""
    if not isinstance(event, APIGatewayProxyEvent):
        return ""
    context = event.request_context
    stage = context.stage
    if stage and stage != "$default" and (context.path or "").startswith(f"/{stage}"):
        return f"/{stage}"
    return ""
