"""Channels: where notifications are delivered (their health and counters: `channel_health`,
`channel_stats`)."""

from __future__ import annotations

from collections.abc import Callable

from herald.dal import layout
from herald.dal.codec import PK, Item, Page, Table
from herald.domain.models import Channel
from herald.names import GSI2_NAME


class ChannelStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _item(channel: Channel) -> Item:
        item = channel.model_dump(mode="json")
        item.update(layout.channel(channel.id))
        item.update(layout.channel_index(channel.id, channel.createdAt))
        return item

    def put(self, channel: Channel) -> None:
        self.table.put(self._item(channel))

    def replace(self, channel: Channel) -> bool:
        """Overwrite a channel that still exists; False if it was deleted meanwhile."""
        return self.table.put(self._item(channel), condition=f"attribute_exists({PK})")

    def get(self, channel_id: str) -> Channel | None:
        item = self.table.get(layout.channel(channel_id))
        return Channel.model_validate(item) if item else None

    def list_all(self) -> list[Channel]:
        return [Channel.model_validate(i) for i in self.table.partition_all(layout.CHANNELS, GSI2_NAME)]

    def list_page(
        self, limit: int, cursor: str | None, visible: Callable[[Channel], bool] | None = None
    ) -> Page[Channel]:
        """Oldest first; `visible` decides which channels the caller may see."""

        def keep(item: Item) -> bool:
            return visible is None or visible(Channel.model_validate(item))

        return self.table.paged(
            cursor, Channel.model_validate, partition=layout.CHANNELS, index=GSI2_NAME, limit=limit, keep=keep
        )

    def delete(self, channel_id: str) -> None:
        self.table.delete(layout.channel(channel_id))

    def disable(self, channel_id: str, reason: str, at_iso: str) -> bool:
        """Disable an enabled channel; True for the one caller that did it (concurrent deliver
        functions may all decide to)."""
        return self.table.update_if(
            layout.channel(channel_id),
            "SET enabled = :off, disabledReason = :why, disabledAt = :at",
            {":off": False, ":on": True, ":why": reason, ":at": at_iso},
            condition=f"attribute_exists({PK}) AND enabled = :on",
        )
