"""Custom event codes: the codes a project defines for its own events."""

from __future__ import annotations

from herald.dal import layout
from herald.dal.codec import PK, Page, Table
from herald.domain.models import CustomEventCode


class CustomCodeStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put_if_new(self, code: CustomEventCode) -> bool:
        item = code.model_dump(mode="json")
        item.update(layout.custom_code(code.projectId, code.code))
        return self.table.put(item, condition=f"attribute_not_exists({PK})")

    def get(self, project_id: str, code: str) -> CustomEventCode | None:
        item = self.table.get(layout.custom_code(project_id, code))
        return CustomEventCode.model_validate(item) if item else None

    def list_page(self, project_id: str, limit: int, cursor: str | None) -> Page[CustomEventCode]:
        return self.table.paged(
            cursor,
            CustomEventCode.model_validate,
            partition=layout.project_partition(project_id),
            sk_prefix=layout.CUSTOM_CODE_PREFIX,
            limit=limit,
        )
