"""Inbound webhooks: a project's secrets for platforms' signed webhooks."""

from __future__ import annotations

from herald.dal import layout
from herald.dal.codec import PK, SK, Table
from herald.domain.models import InboundWebhook


class InboundWebhookStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, hook: InboundWebhook) -> None:
        item = hook.model_dump(mode="json")
        item.update(layout.inbound_webhook(hook.projectId, hook.id))
        self.table.put(item, condition=f"attribute_not_exists({PK})")

    def get(self, project_id: str, webhook_id: str) -> InboundWebhook | None:
        item = self.table.get(layout.inbound_webhook(project_id, webhook_id))
        return InboundWebhook.model_validate(item) if item else None

    def list_all(self, project_id: str, consistent: bool = False) -> list[InboundWebhook]:
        """All of a project's inbound webhooks (a handful: their number is bounded), oldest first."""
        items = self.table.query_all(
            f"{PK} = :pk AND begins_with({SK}, :sk)",
            {":pk": layout.project_partition(project_id), ":sk": layout.INBOUND_PREFIX},
            consistent=consistent,
        )
        hooks = [InboundWebhook.model_validate(i) for i in items]
        return sorted(hooks, key=lambda h: (h.createdAt, h.id))

    def delete(self, project_id: str, webhook_id: str) -> bool:
        """False if it did not exist."""
        key = layout.inbound_webhook(project_id, webhook_id)
        return self.table.delete_if(key, f"attribute_exists({PK})") is not None
