"""API keys (`/api/keys`), for admin keys only: create (the key is shown once), list, revoke.

To any other key these routes do not exist (404, the same answer as an unknown path), as every
resource a key may not see.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api import auth
from herald.api.context import principal, services
from herald.api.errors import conflict, no_route, not_found
from herald.api.params import DEFAULT_LIMIT, Cursor, KeyId, Limit
from herald.api.resolver import new_router
from herald.api.schemas import KeyCreated, KeyIn, KeyList, KeyOut
from herald.api.views import no_content, responses
from herald.domain.models import ApiKey
from herald.logic import apikeys

router = new_router()
TAG = ["API keys"]


def _require_admin() -> None:
    if not principal().admin:
        event = router.current_event
        raise no_route(event.http_method, event.path)  # to other keys, these routes do not exist


def _out(key: ApiKey) -> KeyOut:
    return KeyOut(
        keyId=key.keyId, name=key.name, projects=key.projects, admin=key.admin, createdAt=key.createdAt
    )


@router.post(
    "/api/keys",
    status_code=201,
    summary="Create an API key (admin)",
    description="The key itself is in this response only; Herald keeps its SHA-256 hash.",
    tags=TAG,
    responses=responses(400, 404, success=201, description="Created"),
)
def create_key(body: Annotated[KeyIn, Body()]) -> KeyCreated:
    _require_admin()
    secret, record = apikeys.create(services().api_keys, body.projects, body.admin, body.name)
    auth.forget(record.keyHash)
    return KeyCreated(**_out(record).model_dump(), key=secret)


@router.get("/api/keys", summary="List API keys (admin)", tags=TAG, responses=responses(400, 404))
def list_keys(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> KeyList:
    _require_admin()
    page = services().api_keys.list_page(limit, cursor)
    return KeyList(items=[_out(k) for k in page.items], nextCursor=page.cursor)


@router.delete(
    "/api/keys/<key_id>",
    status_code=204,
    summary="Revoke an API key (admin)",
    description="Immediate on the instance that answers; other warm API instances may accept the key "
    "for up to 60 s more (their authentication cache). A key cannot revoke itself.",
    tags=TAG,
    responses=responses(400, 404, 409, success=204, description="Revoked"),
)
def revoke_key(key_id: KeyId) -> Response[None]:
    _require_admin()
    if key_id == principal().keyId:
        raise conflict("a key cannot revoke itself; revoke it with another admin key")
    record = apikeys.revoke(services().api_keys, key_id)
    if record is None:
        raise not_found(f"key {key_id}")
    auth.forget(record.keyHash)
    return no_content()
