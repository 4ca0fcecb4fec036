"""Records of the access layer (pydantic: they cross the REST boundary)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from memgrid.access.rules import Resource

PrincipalKind = Literal["admin", "user", "agent"]


class Principal(BaseModel):
    id: str
    tenant_id: str
    kind: PrincipalKind
    name: str
    acts_for: list[str] = Field(default_factory=list, description="users an agent acts for")

    def own_users(self) -> list[str]:
        """Users whose private memories this principal reads and writes."""
        return [self.id] if self.kind == "user" else list(self.acts_for) if self.kind == "agent" else []


class ApiKey(BaseModel):
    id: str
    principal_id: str
    tenant_id: str
    expires_at: float | None = None
    secret: str | None = Field(default=None, description="shown once, at creation; only a hash is kept")


class Grant(BaseModel):
    id: str = ""
    tenant_id: str
    grantee: str = Field(description="principal id of the user or agent receiving the right")
    owner: str | None = Field(default=None, description="whose shared memories; None = any (admin only)")
    resource: Resource = "all"
    value: str | None = None
    read: bool = True
    write: bool = False
    valid_from: float | None = None
    valid_to: float | None = None
    created_by: str = ""
    created_at: float = 0.0
    revoked: bool = False

    def active(self, at: float) -> bool:
        return (not self.revoked and (self.valid_from is None or self.valid_from <= at)
                and (self.valid_to is None or at < self.valid_to))


class AuditEvent(BaseModel):
    id: int
    tenant_id: str
    principal_id: str | None
    action: str
    target: str | None
    result: str
    at: float
    detail: dict[str, Any]
