"""Records of the access layer (pydantic: they cross the REST boundary)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from memgrid.access.rules import Resource
from memgrid.config import RetrievalConfig

PrincipalKind = Literal["admin", "user", "agent"]


def utc(value: datetime | None) -> datetime | None:
    """Naive times mean UTC (as everywhere in memgrid)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def to_epoch(value: datetime | None) -> float | None:
    return None if value is None else (utc(value) or value).timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


# ISO 8601 in and out (epoch seconds are accepted too); naive means UTC
Time = Annotated[datetime, AfterValidator(utc)]


class Principal(BaseModel):
    id: str
    tenant_id: str
    kind: PrincipalKind
    name: str
    acts_for: list[str] = Field(default_factory=list, description="users an agent acts for")
    # the key this principal authenticated with, when it did (never serialised)
    key_id: str | None = Field(default=None, exclude=True)
    key_expires_at: datetime | None = Field(default=None, exclude=True)

    def own_users(self) -> list[str]:
        """Users whose private memories this principal reads and writes."""
        return [self.id] if self.kind == "user" else list(self.acts_for) if self.kind == "agent" else []


class TenantSettings(BaseModel):
    """A tenant's own lifecycle policy; unset fields fall back to the server's configuration."""

    model_config = ConfigDict(extra="forbid")

    retention_half_life_days: float | None = Field(
        default=None, gt=0, le=36_500, description="how fast unrecalled memories fade")
    retention_weight: float | None = Field(
        default=None, ge=0, le=1, description="how much fading lowers a memory's rank in search")
    archive_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="archive moves memories whose retention is below this")

    def retrieval(self, base: RetrievalConfig) -> RetrievalConfig:
        """The server's read-path configuration with this tenant's overrides."""
        update = {k: v for k, v in (("retention_half_life_days", self.retention_half_life_days),
                                    ("retention_weight", self.retention_weight)) if v is not None}
        return base.model_copy(update=update) if update else base


class ApiKey(BaseModel):
    id: str
    principal_id: str
    tenant_id: str
    created_at: Time | None = None
    expires_at: Time | None = None
    revoked: bool = False
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
    valid_from: Time | None = None
    valid_to: Time | None = None
    created_by: str = ""
    created_at: Time | None = None
    revoked: bool = False

    def active(self, at: float) -> bool:
        start, end = to_epoch(self.valid_from), to_epoch(self.valid_to)
        return not self.revoked and (start is None or start <= at) and (end is None or at < end)


class AuditEvent(BaseModel):
    id: int
    tenant_id: str
    principal_id: str | None
    action: str
    target: str | None
    result: str
    at: Time
    detail: dict[str, Any]
