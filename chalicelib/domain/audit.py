"""What the audit trail shows: one entry per merchandiser action."""

from typing import Any, Optional

from chalicelib.domain.base import Model


class AuditEntry(Model):
    audit_id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Optional[dict[str, Any]] = None
    after: Optional[dict[str, Any]] = None
    at: str


class AuditPage(Model):
    items: list[AuditEntry]
    next_cursor: Optional[str]
