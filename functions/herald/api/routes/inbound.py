"""Inbound webhooks (`/api/projects/{projectId}/inboundWebhooks`): a project's secrets for the
signed webhooks platforms send it (One Codex's), managed like channels' secrets.

A secret identifies the project it may write to: `POST /webhooks/onecodex?project=p` is verified
against project p's secrets only. Herald generates a secret unless the platform issued one; a
generated secret is shown once, a given one never again. To replace one, create the new one, switch
the platform over, then delete the old one (both are accepted meanwhile).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api.common import ProjectId, check_project, no_content, responses, services
from herald.api.common import WebhookId as InboundWebhookId
from herald.api.errors import conflict, not_found
from herald.api.schemas import InboundWebhookCreated, InboundWebhookIn, InboundWebhookList, InboundWebhookOut
from herald.domain.models import InboundWebhook
from herald.logic import inbound

router = Router()
TAG = ["Bridge"]
BASE = "/api/projects/<project_id>/inboundWebhooks"


def _out(hook: InboundWebhook) -> InboundWebhookOut:
    return InboundWebhookOut(
        id=hook.id,
        projectId=hook.projectId,
        source=hook.source,
        name=hook.name,
        url=f"/webhooks/{hook.source.value}?project={quote(hook.projectId, safe='')}",
        createdAt=hook.createdAt,
    )


@router.post(
    BASE,
    status_code=201,
    summary="Add an inbound webhook secret to a project",
    description=f"At most {inbound.MAX_PER_PROJECT} per project. The response holds the secret if Herald "
    "generated it, the only time it is shown.",
    tags=TAG,
    responses=responses(400, 404, 409, success=201, description="Created"),
)
def create_inbound_webhook(
    project_id: ProjectId, body: Annotated[InboundWebhookIn, Body()]
) -> InboundWebhookCreated:
    check_project(project_id)
    try:
        hook, plain = inbound.create(services(), project_id, body.source, body.name, body.secret)
    except inbound.TooManyInboundWebhooks as exc:
        raise conflict(str(exc)) from None
    return InboundWebhookCreated(**_out(hook).model_dump(), secret=None if body.secret else plain)


@router.get(BASE, summary="List a project's inbound webhooks", tags=TAG, responses=responses(400, 404))
def list_inbound_webhooks(project_id: ProjectId) -> InboundWebhookList:
    check_project(project_id)
    return InboundWebhookList(items=[_out(h) for h in services().inbound_webhooks.list_all(project_id)])


def _get(project_id: str, webhook_id: str) -> InboundWebhook:
    check_project(project_id)
    hook = services().inbound_webhooks.get(project_id, webhook_id)
    if hook is None:
        raise not_found(f"inbound webhook {webhook_id}")
    return hook


@router.get(f"{BASE}/<webhook_id>", summary="Get an inbound webhook", tags=TAG, responses=responses(400, 404))
def get_inbound_webhook(project_id: ProjectId, webhook_id: InboundWebhookId) -> InboundWebhookOut:
    return _out(_get(project_id, webhook_id))


@router.delete(
    f"{BASE}/<webhook_id>",
    status_code=204,
    summary="Delete an inbound webhook",
    description="Its secret stops being accepted at once here, within a minute on other API instances.",
    tags=TAG,
    responses=responses(400, 404, success=204, description="Deleted"),
)
def delete_inbound_webhook(project_id: ProjectId, webhook_id: InboundWebhookId) -> None:
    _get(project_id, webhook_id)
    if not inbound.delete(services(), project_id, webhook_id):
        raise not_found(f"inbound webhook {webhook_id}")
    return no_content()  # type: ignore[return-value]
