"""What the web console needs from the API, offered to every client like any route.

- One-time console links (`POST /api/consoleLinks`, made with an API key) and console sessions
  (`POST /api/consoleSessions`: a link's exchange, or an API key's), sent as
  `Authorization: Bearer`. A session acts exactly as the key that made it, for an hour; it cannot
  make links or further sessions (it would outlive itself).
- A subscription's open notification counts (pending, retryable, failed), for the Notifications
  page and its delete button.
- A channel's attempts over time and their latency (`…/stats`), for the channel's chart.
- A test event sent to one subscription (`…:sendTestEvent`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from herald.adapters import sts
from herald.api import project_subscriptions
from herald.api.context import base_path, console_store, current_session, principal, services
from herald.api.errors import ApiError, invalid, not_found
from herald.api.params import ChannelId, ProjectId, SubscriptionId, parse_time
from herald.api.resolver import new_router
from herald.api.tenancy import check_project, visible_channel
from herald.api.views import no_content, responses
from herald.dal import channel_stats
from herald.domain import catalog, clock, policy
from herald.domain.models import ApiKey, NotificationStatus
from herald.logic import accept, console_sessions, sample_events
from herald.names import PROJECT_ID_PATTERN

router = new_router()
TAG = ["Console"]
SESSIONS_PATH = "/api/consoleSessions"
# At most this many open notifications are counted per subscription and request.
MAX_COUNTED = 10_000
STEPS = (60, 300, 900, 3600)
MAX_POINTS = 1500


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- sessions and links -------------------------------------------------------------------------
class ConsoleLinkIn(_Strict):
    project: Annotated[str, StringConstraints(pattern=PROJECT_ID_PATTERN)] | None = Field(
        default=None, description="The project the console opens (the key must have access to it)."
    )
    expiresInSeconds: int = Field(
        default=console_sessions.DEFAULT_LINK_SECONDS,
        ge=60,
        le=console_sessions.MAX_LINK_SECONDS,
        description="How long the link may be used (once).",
    )


class ConsoleLinkOut(BaseModel):
    url: str = Field(description="Open it in a browser; it works once, until expiresAt.")
    expiresAt: str
    project: str | None = None


class ConsoleSessionIn(_Strict):
    link: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="A console link's token (the part after `#link=`); else send an API key."
    )


class ConsoleIdentity(BaseModel):
    keyId: str
    name: str
    admin: bool
    projects: list[str] = Field(description="The key's projects (an admin key sees every project).")
    project: str | None = Field(default=None, description="The project the link named, if any.")
    expiresAt: str | None = Field(default=None, description="When the session ends (sessions only).")


class ConsoleSessionOut(ConsoleIdentity):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown once.")


def _identity(key: ApiKey, session: console_sessions.Session | None) -> dict[str, Any]:
    return {
        "keyId": key.keyId,
        "name": key.name,
        "admin": key.admin,
        "projects": list(key.projects),
        "project": session.project if session else None,
        "expiresAt": clock.utc_iso(session.expires_at) if session else None,
    }


def _console_url() -> str:
    """This API's console, as the caller reached it (the stage prefix included)."""
    configured = services().settings.api_base_url.rstrip("/")
    if configured:
        return f"{configured}/console/"
    event = router.current_event
    headers = event.headers
    host = headers.get("Host") or headers.get("host") or "localhost"
    scheme = headers.get("X-Forwarded-Proto") or headers.get("x-forwarded-proto") or "http"
    return f"{scheme}://{host}{base_path(event)}/console/"


def _key_not_session(what: str) -> ApiKey:
    if current_session() is not None:
        raise ApiError(403, "forbidden", f"a console session cannot create {what}; use an API key")
    return principal()


@router.post(
    "/api/consoleLinks",
    status_code=201,
    summary="Create a one-time console link",
    description="A URL that opens the console signed in with this key's access, once, within "
    "`expiresInSeconds` (default 600). The token is in the URL's fragment, which browsers never send "
    "to a server; the console exchanges it for a session and removes it from the address bar.",
    tags=TAG,
    responses=responses(400, 403, 404, success=201, description="Created"),
)
def create_console_link(body: Annotated[ConsoleLinkIn, Body()]) -> ConsoleLinkOut:
    key = _key_not_session("console links")
    if body.project is not None:
        check_project(body.project)
    token, expires_at = console_sessions.create_link(
        console_store(), key, body.project, body.expiresInSeconds
    )
    return ConsoleLinkOut(
        url=f"{_console_url()}#link={token}", expiresAt=clock.utc_iso(expires_at), project=body.project
    )


@router.post(
    SESSIONS_PATH,
    status_code=201,
    summary="Open a console session",
    description=f"With `link` (no credentials needed): uses the one-time link. Without: opens a session "
    f"for the `X-API-Key` sent. The session lasts {console_sessions.SESSION_SECONDS // 60} minutes and acts "
    "exactly as its key (revoking the key ends it); send its token as `Authorization: Bearer`.",
    tags=TAG,
    responses=responses(400, 401, 403, success=201, description="Created"),
)
def open_console_session(body: Annotated[ConsoleSessionIn, Body()]) -> ConsoleSessionOut:
    store = console_store()
    if body.link is not None:
        token, session = console_sessions.exchange_link(store, body.link)
    else:
        try:
            key = _key_not_session("console sessions")
        except ApiError as exc:
            if exc.status != 401:
                raise
            raise ApiError(
                401, "unauthorized", "send a console link's token as `link`, or an X-API-Key header"
            ) from None
        token, session = console_sessions.open_session(store, key, None)
    return ConsoleSessionOut(**_identity(session.key, session), token=token)


@router.get(
    f"{SESSIONS_PATH}/current",
    summary="Who is signed in",
    description="The key behind this request (a console session's, or the X-API-Key's): its projects "
    "and, for a session, when it ends.",
    tags=TAG,
    responses=responses(),
)
def current_console_session() -> ConsoleIdentity:
    return ConsoleIdentity(**_identity(principal(), current_session()))


@router.delete(
    f"{SESSIONS_PATH}/current",
    status_code=204,
    summary="Sign out (end this console session)",
    tags=TAG,
    responses=responses(400, success=204, description="Ended"),
)
def end_console_session() -> Response[None]:
    principal()
    session = current_session()
    if session is None:
        raise invalid("Authorization", "this request carries no console session to end")
    console_sessions.end_session(console_store(), session)
    return no_content()


# --- subscription counts and test events --------------------------------------------------------
class NotificationCountsOut(BaseModel):
    subscriptionId: str
    pending: int
    retryable: int
    failed: int
    complete: bool = Field(
        description=f"False when more than {MAX_COUNTED} were open (the counts stop there)."
    )
    deletable: bool = Field(description="True when none is open: the subscription can be deleted.")


@router.get(
    "/api/projects/<project_id>/notificationSubscriptions/<subscription_id>/notificationCounts",
    summary="A subscription's open notifications, counted",
    description="How many of its notifications are pending (held back by the channel), retryable or failed "
    "(one in its first delivery attempt is counted once that attempt fails or is held back): a subscription can be "
    "deleted only when all three are 0.",
    tags=TAG,
    responses=responses(400, 404),
)
def notification_counts(project_id: ProjectId, subscription_id: SubscriptionId) -> NotificationCountsOut:
    project_subscriptions.get(project_id, subscription_id)
    counts, complete = _open_counts(subscription_id)
    return NotificationCountsOut(
        subscriptionId=subscription_id,
        pending=counts.get(NotificationStatus.PENDING, 0),
        retryable=counts.get(NotificationStatus.RETRYABLE, 0),
        failed=counts.get(NotificationStatus.FAILED, 0),
        complete=complete,
        deletable=complete and not any(counts.values()),
    )


def _open_counts(subscription_id: str) -> tuple[dict[NotificationStatus, int], bool]:
    """Counts from the subscription's open-notifications index (status only), bounded."""
    return services().notifications.open_counts_at_most(subscription_id, MAX_COUNTED)


class TestEventIn(_Strict):
    eventCode: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")] | None = (
        Field(default=None, description="Required when the subscription is to `*`; else its own code.")
    )
    payload: dict[str, Any] | None = Field(
        default=None, description="Default: the catalog's example payload."
    )


class TestEventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    uri: str = Field(alias="$uri")
    notificationId: str
    eventCode: str


@router.post(
    "/api/projects/<project_id>/notificationSubscriptions/<subscription_id>:sendTestEvent",
    status_code=202,
    summary="Send a test event to one subscription",
    description="Stores an event (description `Test: …`, payload given or the catalog's example) and "
    "delivers it to this subscription only, without evaluating its filter; follow it at `$uri`.",
    tags=TAG,
    responses=responses(400, 404, 413, 503, success=202, description="Accepted"),
)
def send_test_event(
    project_id: ProjectId, subscription_id: SubscriptionId, body: Annotated[TestEventIn, Body()]
) -> TestEventOut:
    sub = project_subscriptions.get(project_id, subscription_id)
    code = body.eventCode or sub.eventCode
    if code == "*":
        raise invalid("eventCode", "this subscription is to every code (*): name the test event's eventCode")
    if body.eventCode and sub.eventCode != "*" and sub.eventCode not in catalog.subscribable_codes(code):
        raise invalid("eventCode", f"this subscription is to {sub.eventCode}; send that code or leave it out")
    if catalog.is_operational(code) and sub.eventCode != code:
        raise invalid("eventCode", "Herald's operational events reach only subscriptions that name them")
    if body.payload is not None:
        size = len(json.dumps(body.payload, separators=(",", ":"), ensure_ascii=False).encode())
        if size > accept.MAX_PAYLOAD_BYTES:
            raise ApiError(
                413,
                "payload_too_large",
                f"payload: {size} bytes; the limit is {accept.MAX_PAYLOAD_BYTES}",
                "payload",
            )
    event, notification = sample_events.send_test_event(services(), sub, code, body.payload)
    return TestEventOut(
        id=event.id, uri=f"/v1/events/{event.id}", notificationId=notification.id, eventCode=code
    )


# --- a channel's attempts over time -------------------------------------------------------------
class StatsPoint(BaseModel):
    at: str = Field(description="Start of the step (UTC).")
    succeeded: int
    failed: int
    meanLatencyMs: float | None = Field(description="Mean duration of the step's attempts.")
    p95LatencyMs: int | None = Field(
        description="Upper bound of the 95th percentile's latency bucket (50, 100, 250, 500, 1000, 2500, "
        "5000 ms); null when slower than 5 s or no attempt."
    )


class ChannelStatsOut(BaseModel):
    channelId: str
    since: str
    until: str
    step: int
    points: list[StatsPoint]


Time = Annotated[str | None, Query(max_length=64, json_schema_extra={"format": "date-time"})]


@router.get(
    "/api/notificationChannels/<channel_id>/stats",
    summary="A channel's attempts over time",
    description="Attempts that succeeded and failed, and their latency, per `step` seconds (60, 300, 900 or "
    "3600; default: chosen from the range) between `since` (default: 24 h ago) and `until` (default: now), "
    f"at most 7 days and {MAX_POINTS} points. Every step is listed, empty ones with zeros.",
    tags=TAG,
    responses=responses(400, 404),
)
def channel_attempt_stats(
    channel_id: ChannelId,
    since: Time = None,
    until: Time = None,
    step: Annotated[int | None, Query(description="Seconds per point: 60, 300, 900 or 3600.")] = None,
) -> ChannelStatsOut:
    channel = visible_channel(channel_id)
    if channel is None:
        raise not_found(f"channel {channel_id}")
    now = clock.now()
    # Given but empty is not "not given": parse_time refuses it (400), as the schema's date-time does.
    until_ts = min(parse_time("until", until), now) if until is not None else now
    since_ts = parse_time("since", since) if since is not None else until_ts - 86400
    if since_ts >= until_ts:
        raise invalid("since", "must be before until")
    if until_ts - since_ts > channel_stats.MAX_SERIES_SECONDS:
        raise invalid("since", "the range is at most 7 days")
    span = until_ts - since_ts
    if step is None:
        step = next(s for s in STEPS if span / s <= 200) if span / STEPS[-1] <= 200 else STEPS[-1]
    elif step not in STEPS:
        raise invalid("step", "must be 60, 300, 900 or 3600")
    if span / step > MAX_POINTS:
        raise invalid("step", f"too small for this range (at most {MAX_POINTS} points)")
    points = services().channel_stats.series(channel.id, since_ts, until_ts, step)
    return ChannelStatsOut(
        channelId=channel.id,
        since=clock.utc_iso(since_ts),
        until=clock.utc_iso(until_ts),
        step=step,
        points=[
            StatsPoint(
                at=clock.utc_iso(p.at),
                succeeded=p.succeeded,
                failed=p.failed,
                meanLatencyMs=p.mean_latency_ms(),
                p95LatencyMs=p.p95_latency_ms(),
            )
            for p in points
        ],
    )


# --- the resource policy an SQS or SNS target needs -----------------------------------------------
class TargetPolicyOut(BaseModel):
    type: str
    arn: str = Field(description="The target's ARN (an SQS queue URL is turned into its queue's ARN).")
    accountId: str = Field(description="Herald's AWS account, the policy's principal.")
    policy: dict[str, Any] = Field(description="What `herald policy sqs|sns --arn ARN` prints.")


_QUEUE_URL_PATH = re.compile(r"^/(\d{12})/([A-Za-z0-9_.\-]{1,80})/?$")
_QUEUE_HOST_REGION = re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def queue_arn(address: str, default_region: str) -> str:
    """An SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or a local
    endpoint's `http://host:port/<account>/<name>`) as its queue's ARN."""
    if address.startswith("arn:"):
        return address
    parts = urlsplit(address)
    path = _QUEUE_URL_PATH.match(parts.path or "")
    if parts.scheme not in ("http", "https") or not path:
        raise invalid("address", "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")
    region = _QUEUE_HOST_REGION.match(parts.hostname or "")
    partition = "aws-cn" if (parts.hostname or "").endswith(".cn") else "aws"
    return (
        f"arn:{partition}:sqs:{region.group(1) if region else default_region}:{path.group(1)}:{path.group(2)}"
    )


@lru_cache(maxsize=1)
def _herald_account() -> str:
    return sts.caller_account_id()


@router.get(
    "/api/targetPolicy",
    summary="The resource policy an SQS or SNS target needs",
    description="The same policy `herald policy sqs|sns --arn ARN` prints, for the queue (URL or ARN) or "
    "topic ARN given: apply it to the target so Herald's account may deliver to it.",
    tags=TAG,
    responses=responses(400),
)
def target_policy(
    type: Annotated[str, Query(pattern=r"^(SQS|SNS)$", description="SQS or SNS.")],
    address: Annotated[str, Query(min_length=1, max_length=512, description="Queue URL or ARN; topic ARN.")],
) -> TargetPolicyOut:
    principal()
    kind: policy.Kind = "sqs" if type == "SQS" else "sns"
    arn = queue_arn(address.strip(), _default_region()) if kind == "sqs" else address.strip()
    account = _herald_account()
    rendered = policy.render_policy(kind, arn, account)  # PolicyInputError: the error table's 400
    return TargetPolicyOut(type=type, arn=arn, accountId=account, policy=rendered)


def _default_region() -> str:
    import os

    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# --- checking a filter as it is typed ---------------------------------------------------------------
class FilterCheckIn(_Strict):
    filterExpression: Annotated[str, StringConstraints(max_length=2000)]
    payload: dict[str, Any] | None = Field(default=None, description="Optional: also say whether it matches.")


class FilterCheckOut(BaseModel):
    valid: bool
    message: str | None = Field(default=None, description="Why it is invalid: the API's own 400 message.")
    caret: str | None = Field(default=None, description="The expression with a caret under the error.")
    position: int | None = None
    matched: bool | None = Field(default=None, description="With a payload: whether the filter matches it.")
    evaluationError: str | None = None


@router.post(
    "/api/filters:check",
    summary="Check a filter expression (and match it against a payload)",
    description="What creating a subscription with this `filterExpression` would say, without creating "
    "anything: `valid`, or the error with a caret under its position (as `herald filter check`).",
    tags=TAG,
    responses=responses(400, 413),
)
def check_filter(body: Annotated[FilterCheckIn, Body()]) -> FilterCheckOut:
    principal()
    from herald.filters import FilterSyntaxError, compile_filter

    if not body.filterExpression.strip():
        return FilterCheckOut(valid=True)
    try:
        compiled = compile_filter(body.filterExpression)
    except FilterSyntaxError as exc:
        return FilterCheckOut(valid=False, message=str(exc), caret=exc.caret(), position=exc.position)
    if body.payload is None:
        return FilterCheckOut(valid=True)
    result = compiled.evaluate(body.payload)
    return FilterCheckOut(valid=True, matched=result.matched, evaluationError=result.error)
