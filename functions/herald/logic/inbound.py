"""Inbound webhooks: a project's own secrets for platforms' signed webhooks (One Codex's).

A sender's secret identifies the project it may write to. `POST /webhooks/onecodex?project=p`
is verified against project p's inbound webhook secrets only, so a request signed for another
project (or replayed to another project's URL) is refused. Secrets are sealed with KMS, like
channel secrets, and shown once: the one Herald generates, in the response that created it; one
the platform issued (One Codex shows one per webhook) is never shown again.

The deployment-wide `HERALD_ONECODEX_SECRET` still works, for a single project only: the one
`HERALD_ONECODEX_PROJECT` names (default: `HERALD_INGEST_DEFAULT_PROJECT`, else `onecodex`).

Verifying an unauthenticated request must not cost a table read and a KMS call each time: a
project's sealed secrets are kept per process for `CACHE_SECONDS` (opened ones by the secret box),
so a deleted secret may still be accepted that long by other warm instances.
"""

from __future__ import annotations

import secrets as random_secrets
import threading
import time
from collections import OrderedDict

from aws_lambda_powertools import Logger

from herald.domain import clock, ids
from herald.domain.models import InboundSource, InboundWebhook
from herald.logic.services import Services

logger = Logger(child=True)

# A project's inbound webhooks: enough for one per sender and an overlap while one is replaced,
# and few enough that verifying a request tries only a handful of secrets.
MAX_PER_PROJECT = 5
CACHE_SECONDS = 60.0
CACHE_MAX_PROJECTS = 1024
DEFAULT_PROJECT = "onecodex"
_cache: OrderedDict[str, tuple[float, list[InboundWebhook]]] = OrderedDict()
_lock = threading.Lock()


class TooManyInboundWebhooks(Exception):
    pass


def context(webhook_id: str) -> str:
    """The secret's KMS encryption context value: bound to this webhook, never a channel's."""
    return f"inbound:{webhook_id}"


def legacy_project(services: Services) -> str:
    """The one project the deployment-wide secret (HERALD_ONECODEX_SECRET) may write to."""
    settings = services.settings
    return settings.onecodex_project or settings.ingest_default_project or DEFAULT_PROJECT


def legacy_secret(services: Services) -> str:
    """The deployment-wide One Codex secret: HERALD_ONECODEX_SECRET itself (local), or the Secrets
    Manager secret HERALD_ONECODEX_SECRET_ARN names (deployed); "" when neither is set."""
    settings = services.settings
    if settings.onecodex_secret:
        return settings.onecodex_secret
    if settings.onecodex_secret_arn:
        return _secret_from_secrets_manager(settings.onecodex_secret_arn)
    return ""


def _secret_from_secrets_manager(arn: str) -> str:
    # Powertools' parameters utility caches it (5 minutes by default) across invocations.
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(arn, max_age=300))


def create(
    services: Services, project_id: str, source: InboundSource, name: str, secret: str | None
) -> tuple[InboundWebhook, str]:
    """A new inbound webhook for the project; returns it and its secret in plain text."""
    if len(services.inbound_webhooks.list_all(project_id, consistent=True)) >= MAX_PER_PROJECT:
        raise TooManyInboundWebhooks(
            f"project {project_id} has {MAX_PER_PROJECT} inbound webhooks, the most a project may "
            "have; delete one first"
        )
    webhook_id = ids.new_id()
    plain = secret or random_secrets.token_hex(32)
    hook = InboundWebhook(
        id=webhook_id,
        projectId=project_id,
        source=source,
        name=name,
        secret=services.secrets.seal(plain, context(webhook_id)),
        createdAt=clock.utc_iso(),
    )
    services.inbound_webhooks.put(hook)
    forget(project_id)
    return hook, plain


def delete(services: Services, project_id: str, webhook_id: str) -> bool:
    deleted = services.inbound_webhooks.delete(project_id, webhook_id)
    forget(project_id)
    return deleted


def secrets_for(services: Services, source: InboundSource, project_id: str) -> list[str]:
    """Every secret a request for `project_id` may be signed with (plain text), newest first."""
    hooks = [h for h in _hooks(services, project_id) if h.source is source]
    opened = [services.secrets.open(h.secret, context(h.id)) for h in reversed(hooks)]
    if source is InboundSource.ONECODEX and project_id == legacy_project(services):
        legacy = legacy_secret(services)
        if legacy:
            opened.append(legacy)
    return opened


def _hooks(services: Services, project_id: str) -> list[InboundWebhook]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(project_id)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    hooks = services.inbound_webhooks.list_all(project_id)
    with _lock:
        _cache[project_id] = (now, hooks)
        _cache.move_to_end(project_id)
        while len(_cache) > CACHE_MAX_PROJECTS:
            _cache.popitem(last=False)
    return hooks


def forget(project_id: str | None = None) -> None:
    """Drop this process's cached secrets (of one project, or all)."""
    with _lock:
        if project_id is None:
            _cache.clear()
        else:
            _cache.pop(project_id, None)
