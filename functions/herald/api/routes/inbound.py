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

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api.context import services
from herald.api.errors import not_found
from herald.api.params import ProjectId
from herald.api.params import WebhookId as InboundWebhookId
from herald.api.resolver import new_router
from herald.api.schemas import InboundWebhookCreated, InboundWebhookIn, InboundWebhookList, InboundWebhookOut
from herald.api.tenancy import check_project
from herald.api.views import no_content, responses
from herald.domain.models import InboundSource, InboundWebhook
from herald.logic import inbound
from herald.names import ONECODEX_WEBHOOK_PATH

router = new_router()
TAG = ["Bridge"]
BASE = "/api/projects/<project_id>/inboundWebhooks"
# Where each platform posts (served by `routes.catalog`).
WEBHOOK_PATHS = {InboundSource.ONECODEX: ONECODEX_WEBHOOK_PATH}


def _out(hook: InboundWebhook) -> InboundWebhookOut:
    return InboundWebhookOut(
        id=hook.id,
        projectId=hook.projectId,
        source=hook.source,
        name=hook.name,
        url=f"{WEBHOOK_PATHS[hook.source]}?project={quote(hook.projectId, safe='')}",
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
    hook, plain = inbound.create(services(), project_id, body.source, body.name, body.secret)
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
def delete_inbound_webhook(project_id: ProjectId, webhook_id: InboundWebhookId) -> Response[None]:
    _get(project_id, webhook_id)
    if not inbound.delete(services(), project_id, webhook_id):
        raise not_found(f"inbound webhook {webhook_id}")
    return no_content()
