"""The event catalog: every event code Herald knows, as data.

ICA's system events come from its Notifications page (code, description, details, payload type);
One Codex's from its webhooks documentation (event type, object type). Subscriptions may also use
`*` and a project's custom codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str
    description: str
    details: str
    payload_type: str  # ICA's payload model name, or One Codex's object type
    platform: str  # "ica", "onecodex" or "herald"

    @property
    def object_type(self) -> str:
        """One Codex's `object_type` for this event's payload."""
        return OBJECT_TYPES.get(self.payload_type, self.payload_type.lower())


def _ica(code: str, description: str, details: str, payload_type: str) -> EventType:
    return EventType(code, description, details, payload_type, "ica")


ICA_EVENTS: tuple[EventType, ...] = (
    _ica("ICA_EXEC_001", "Analysis failure", "Emitted when an analysis fails", "Analysis"),
    _ica("ICA_EXEC_002", "Analysis success", "Emitted when an analysis succeeds", "Analysis"),
    _ica(
        "ICA_EXEC_027",
        "Analysis aborted",
        "Emitted when an analysis is aborted either by the system or the user",
        "Analysis",
    ),
    _ica(
        "ICA_EXEC_028",
        "Analysis status change",
        "Emitted when an state transition on an analysis occurs",
        "Analysis",
    ),
    _ica("ICA_BASE_001", "Base Job failure", "Emitted when a Base job fails", "BaseJob"),
    _ica("ICA_BASE_002", "Base Job success", "Emitted when a Base job succeeds", "BaseJob"),
    _ica(
        "ICA_DATA_002",
        "Data transfer success",
        "Emitted when a data transfer is marked as Succeeded",
        "DataTransfer",
    ),
    _ica(
        "ICA_DATA_025",
        "Data transfer stalled",
        "Emitted when data transfer hasn't progressed in the past 2 minutes",
        "DataTransfer",
    ),
    _ica(
        "ICA_DATA_100",
        "Data <action>",
        "Wildcard for all project data status changes, including those with no separate code; not DataTransfer "
        "events nor changes that trigger no data status change (such as adding tags)",
        "ProjectData",
    ),
    _ica(
        "ICA_DATA_104", "Data linked to project", "Emitted when a file is linked to a project", "ProjectData"
    ),
    _ica(
        "ICA_DATA_105",
        "Data can not be created in non-indexed folder",
        "Emitted when attempting to create data in a non-indexed folder",
        "ProjectData",
    ),
    _ica("ICA_DATA_106", "Data deleted", "Emitted when data is deleted", "ProjectData"),
    _ica("ICA_DATA_107", "Data created", "Emitted when data is created", "ProjectData"),
    _ica("ICA_DATA_108", "Data uploaded", "Emitted when data is uploaded", "ProjectData"),
    _ica("ICA_DATA_109", "Data updated", "Emitted when data is updated", "ProjectData"),
    _ica("ICA_DATA_110", "Data archived", "Emitted when data is archived", "ProjectData"),
    _ica("ICA_DATA_114", "Data unarchived", "Emitted when data is unarchived", "ProjectData"),
    _ica(
        "ICA_JOB_001",
        "Job status changed",
        "Emitted when a job changes status (INITIALIZED, WAITING_FOR_RESOURCES, RUNNING, STOPPED, SUCCEEDED, "
        "PARTIALLY_SUCCEEDED, FAILED)",
        "JobId",
    ),
    _ica("ICA_SMP_002", "Sample completed", "Emitted when a sample is marked as completed", "ProjectSample"),
    _ica(
        "ICA_SMP_003",
        "Sample linked to a project",
        "Emitted when a sample is linked to a project",
        "ProjectSample",
    ),
    _ica("ICA_WFS_001", "Workflow session start", "Emitted when workflow is started", "WorkflowSession"),
    _ica("ICA_WFS_002", "Workflow session failure", "Emitted when workflow fails", "WorkflowSession"),
    _ica("ICA_WFS_003", "Workflow session success", "Emitted when workflow succeeds", "WorkflowSession"),
    _ica("ICA_WFS_004", "Workflow session aborted", "Emitted when workflow is aborted", "WorkflowSession"),
)

# Herald's own: what a platform posts to report a transfer's progress, so that Herald can tell
# when it stalls (ICA_DATA_025) and when it succeeds (ICA_DATA_002).
TRANSFER_PROGRESS_CODE = "HERALD_TRANSFER"
HERALD_EVENTS: tuple[EventType, ...] = (
    EventType(
        TRANSFER_PROGRESS_CODE,
        "Data transfer progress",
        "A data transfer's progress (id, bytesTransferred, status); Herald emits ICA_DATA_025 when it "
        "stops progressing and ICA_DATA_002 when it succeeds",
        "DataTransfer",
        "herald",
    ),
    # Operational events (herald.logic.operational): about deliveries and channels, not the platform.
    EventType(
        "herald.notification.exhausted",
        "Notification exhausted",
        "A notification ran out of attempts and is failed (reprocessable); names its event, "
        "subscription, channel, attempts and last error",
        "Notification",
        "herald",
    ),
    EventType(
        "herald.channel.failing",
        "Channel failing",
        "A channel's recent deliveries mostly failed: its circuit opened and deliveries to it are held "
        "back (not failed) until a probe succeeds",
        "Channel",
        "herald",
    ),
    EventType(
        "herald.channel.disabled",
        "Channel disabled",
        "Herald disabled a channel (it answered 410 Gone, or every delivery failed for days); its "
        "notifications are kept as failed, reprocessable once it is enabled again",
        "Channel",
        "herald",
    ),
    EventType(
        "herald.channel.recovered",
        "Channel recovered",
        "A failing channel delivered again: its circuit closed",
        "Channel",
        "herald",
    ),
    EventType(
        "herald.subscription.disabled",
        "Subscription disabled",
        "Herald quarantined a subscription: its filter kept hitting its evaluation bounds (a regex "
        "timing out), costing other subscriptions their routing; it matches nothing until enabled again",
        "Subscription",
        "herald",
    ),
)

ONECODEX_EVENTS: tuple[EventType, ...] = (
    EventType(
        "sample.uploaded",
        "Sample uploaded",
        "A sample was successfully uploaded or imported and processing started",
        "sample",
        "onecodex",
    ),
    EventType(
        "analysis.succeeded",
        "Analysis succeeded",
        "An analysis finished successfully (success: true)",
        "analysis",
        "onecodex",
    ),
    EventType(
        "analysis.failed",
        "Analysis failed",
        "An analysis finished unsuccessfully (success: false); may fire more than once",
        "analysis",
        "onecodex",
    ),
)

# ICA payload models → One Codex-style object types.
OBJECT_TYPES = {
    "Analysis": "analysis",
    "ProjectSample": "sample",
    "ProjectData": "data",
    "DataTransfer": "data_transfer",
    "BaseJob": "base_job",
    "JobId": "job",
    "WorkflowSession": "workflow_session",
    "Notification": "notification",
    "Channel": "channel",
}

BY_CODE: dict[str, EventType] = {e.code: e for e in ICA_EVENTS + ONECODEX_EVENTS + HERALD_EVENTS}
# Analysis events carry the Analysis model, whose status vocabulary depends on the payload version.
ANALYSIS_CODES = frozenset(e.code for e in ICA_EVENTS if e.payload_type == "Analysis")


# ICA_DATA_100 is the seed's data wildcard: a subscription to it matches every project-data status
# change — the events with a code of their own (ICA_DATA_104 … ICA_DATA_114) and the changes that
# have none, which producers send as ICA_DATA_100 itself. It never matches DataTransfer events
# (ICA_DATA_002, ICA_DATA_025): they are not project data. Changes that alter no data status
# (adding tags, say) have no event code at all, so nothing reaches subscribers for them; a
# producer must not send them as ICA_DATA_100 (Herald cannot tell a tag change from the payload).
DATA_WILDCARD = "ICA_DATA_100"
DATA_STATUS_CODES = frozenset(
    e.code for e in ICA_EVENTS if e.payload_type == "ProjectData" and e.code != DATA_WILDCARD
)


def subscribable_codes(code: str) -> tuple[str, ...]:
    """The codes whose subscribers an event of `code` reaches (besides `*`)."""
    return (code, DATA_WILDCARD) if code in DATA_STATUS_CODES else (code,)


OPERATIONAL_PREFIX = "herald."


def is_operational(code: str) -> bool:
    """Herald's own operational events (herald.channel.failing, …): delivered only to
    subscriptions naming them, never to `*`, which means every platform event."""
    return code.startswith(OPERATIONAL_PREFIX)


def lookup(code: str) -> EventType | None:
    return BY_CODE.get(code)


def object_type(code: str) -> str:
    known = BY_CODE.get(code)
    return known.object_type if known else "custom"


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, case-insensitive (codes are short: the quadratic table is fine)."""
    a, b = a.upper(), b.upper()
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def nearest(code: str, limit: int = 3) -> list[str]:
    """The known codes closest to a mistyped one (for "did you mean" hints)."""
    threshold = max(2, len(code) // 4)
    scored = sorted((_distance(code, known), known) for known in BY_CODE)
    return [known for distance, known in scored[:limit] if distance <= threshold]
