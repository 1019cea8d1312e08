"""Subscriptions: a project's interest in event codes, delivered through a channel."""

from __future__ import annotations

from collections.abc import Iterable

from herald.dal import layout
from herald.dal.codec import PK, SK, Item, Page, Table, conditional_write, to_ddb
from herald.domain.models import Subscription
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI2_NAME


class SubscriptionStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _item(sub: Subscription) -> Item:
        item = sub.model_dump(mode="json")
        item.update(layout.subscription(sub.projectId, sub.id))
        item.update(
            layout.subscription_index(sub.projectId, sub.id, sub.eventCode, sub.notificationChannelId)
        )
        return item

    def put(self, sub: Subscription) -> None:
        self.table.put(self._item(sub))

    def put_many(self, subs: Iterable[Subscription]) -> None:
        """Write many subscriptions in batches (seeding, imports): 25 a BatchWriteItem call."""
        items = [to_ddb(self._item(s)) for s in subs]
        for at in range(0, len(items), 25):
            chunk = items[at : at + 25]
            self.table.ddb.batch_write_item(
                RequestItems={self.table.name: [{"PutRequest": {"Item": i}} for i in chunk]}
            )

    def replace(self, sub: Subscription) -> bool:
        """Overwrite a subscription that still exists; False if it was deleted meanwhile."""
        return self.table.put(self._item(sub), condition=f"attribute_exists({PK})")

    def delete(self, project_id: str, subscription_id: str) -> None:
        self.table.delete(layout.subscription(project_id, subscription_id))

    def get(self, project_id: str, subscription_id: str) -> Subscription | None:
        item = self.table.get(layout.subscription(project_id, subscription_id))
        return Subscription.model_validate(item) if item else None

    def list_all(self, project_id: str) -> list[Subscription]:
        items = self.table.query_all(
            f"{PK} = :pk AND begins_with({SK}, :sk)",
            {":pk": layout.project_partition(project_id), ":sk": layout.SUBSCRIPTION_PREFIX},
        )
        return [Subscription.model_validate(i) for i in items]

    def list_page(
        self,
        project_id: str,
        limit: int,
        cursor: str | None,
        *,
        event_code: str | None = None,
        channel_id: str | None = None,
        enabled: bool | None = None,
        custom: bool | None = None,
    ) -> Page[Subscription]:
        def keep(item: Item) -> bool:
            return (
                (event_code is None or item.get("eventCode") == event_code)
                and (channel_id is None or item.get("notificationChannelId") == channel_id)
                and (enabled is None or bool(item.get("enabled", True)) == enabled)
                and (custom is None or bool(item.get("custom", False)) == custom)
            )

        return self.table.paged(
            cursor,
            Subscription.model_validate,
            partition=layout.project_partition(project_id),
            sk_prefix=layout.SUBSCRIPTION_PREFIX,
            limit=limit,
            keep=keep,
        )

    def for_codes(
        self, project_id: str, event_codes: Iterable[str], include_wildcard: bool = True
    ) -> list[Subscription]:
        """Subscriptions of a project to any of these codes or to every code (`*`): index lookups."""
        subs: list[Subscription] = []
        for code in dict.fromkeys((*event_codes, "*") if include_wildcard else tuple(event_codes)):
            items = self.table.query_all(
                f"{GSI1_PARTITION_KEY} = :pk",
                {":pk": layout.subscriptions_by_code(project_id, code)},
                index=GSI1_NAME,
            )
            subs.extend(Subscription.model_validate(i) for i in items)
        return subs

    # --- by channel -------------------------------------------------------------------------------
    def projects_on_channel(self, channel_id: str) -> set[str]:
        """The projects of the subscriptions (of any project) that deliver through this channel."""
        items = self.table.partition_all(
            layout.subscriptions_on_channel(channel_id), GSI2_NAME, projection="projectId"
        )
        return {str(i.get("projectId")) for i in items}

    def count_on_channel(self, channel_id: str) -> int:
        """How many subscriptions (of any project) deliver through this channel."""
        return self.table.count(layout.subscriptions_on_channel(channel_id), GSI2_NAME)

    # --- filter strikes and quarantine ------------------------------------------------------------
    def add_filter_strike(self, project_id: str, subscription_id: str) -> int | None:
        """One more costly evaluation of the subscription's filter; its count now (None: gone)."""
        key = layout.subscription(project_id, subscription_id)
        result: Item = {}

        def add() -> None:
            result.update(
                self.table.update(
                    key,
                    "ADD filterStrikes :one",
                    {":one": 1},
                    condition=f"attribute_exists({PK})",
                    returns="UPDATED_NEW",
                )
            )

        if not conditional_write(add):
            return None
        return int(result["filterStrikes"])

    def clear_filter_strikes(self, project_id: str, subscription_id: str) -> None:
        self.table.update_if(
            layout.subscription(project_id, subscription_id),
            "SET filterStrikes = :zero",
            {":zero": 0},
            condition=f"attribute_exists({PK})",
        )

    def quarantine(self, project_id: str, subscription_id: str, reason: str, at: str) -> bool:
        """Disable an enabled subscription, saying why; False if it was not enabled (or is gone)."""
        return self.table.update_if(
            layout.subscription(project_id, subscription_id),
            "SET enabled = :false, disabledReason = :why, disabledAt = :at, updatedAt = :at",
            {":false": False, ":true": True, ":why": reason, ":at": at},
            condition=f"attribute_exists({PK}) AND (enabled = :true OR attribute_not_exists(enabled))",
        )
