"""The merchandiser audit trail, read newest first."""

from __future__ import annotations

from typing import Optional

from chalicelib.adapters.audit_repo import AuditRepository
from chalicelib.adapters.cursor import CursorCodec
from chalicelib.domain.audit import AuditEntry, AuditPage


class AuditService:
    def __init__(self, repo: AuditRepository, cursors: CursorCodec) -> None:
        self._repo = repo
        self._cursors = cursors

    def page(self, limit: int, cursor: Optional[str]) -> AuditPage:
        items, last = self._repo.page(limit, self._cursors.decode(cursor, "audit"))
        return AuditPage(
            items=[AuditEntry.model_validate(i) for i in items], next_cursor=self._cursors.encode(last, "audit")
        )
