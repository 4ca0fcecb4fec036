"""The visibility rule, once in Python (for checks and tests) and once as SQL (for retrieval).

A principal reads a memory of its tenant when it is a tenant admin; or the memory belongs to
a user it is or acts for (private or shared); or the memory is shared and an active read grant
held by the principal (or by a user it acts for) covers it. A grant covers the grantor-owner's
shared memories (any owner's for an admin-made grant with no owner) of one resource: all of
them, one session, one tag (metadata.tags), or one namespace (metadata.namespace).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Resource = Literal["all", "session", "tag", "namespace"]


@dataclass(frozen=True, slots=True)
class GrantRule:
    owner: str | None  # None: any owner (admin-made grants)
    resource: Resource
    value: str | None  # session id, tag or namespace; None for "all"


@dataclass(frozen=True, slots=True)
class AccessRule:
    """What one principal may read, resolved at request time (so revocations apply at once)."""

    admin: bool = False
    own_users: frozenset[str] = frozenset()
    grants: tuple[GrantRule, ...] = field(default_factory=tuple)

    def covers(self, user_id: str | None, visibility: str, session_id: str | None,
               metadata: dict[str, Any]) -> bool:
        if self.admin or (user_id is not None and user_id in self.own_users):
            return True
        if visibility != "shared":
            return False
        return any(_grant_covers(g, user_id, session_id, metadata) for g in self.grants)


def _grant_covers(g: GrantRule, user_id: str | None, session_id: str | None,
                  metadata: dict[str, Any]) -> bool:
    if g.owner is not None and g.owner != user_id:
        return False
    if g.resource == "all":
        return True
    if g.resource == "session":
        return session_id == g.value
    if g.resource == "namespace":
        return metadata.get("namespace") == g.value
    tags = metadata.get("tags")
    return isinstance(tags, list) and g.value in tags


def access_sql(rule: AccessRule, alias: str, placeholder: str, postgres: bool) -> tuple[str, list[Any]]:
    """The same rule as a SQL predicate over memories aliased `alias`."""
    if rule.admin:
        return "1 = 1", []
    a, p = alias + ".", placeholder
    parts: list[str] = []
    params: list[Any] = []
    if rule.own_users:
        parts.append(f"{a}user_id IN ({', '.join([p] * len(rule.own_users))})")
        params.extend(sorted(rule.own_users))
    grant_parts: list[str] = []
    for g in rule.grants:
        clause: list[str] = []
        if g.owner is not None:
            clause.append(f"{a}user_id = {p}")
            params.append(g.owner)
        if g.resource == "session":
            clause.append(f"{a}session_id = {p}")
            params.append(g.value)
        elif g.resource == "namespace":
            clause.append(f"{a}metadata -> 'namespace' = {p}::jsonb" if postgres
                          else f"json_extract({a}metadata, '$.namespace') = {p}")
            params.append(f'"{g.value}"' if postgres else g.value)
        elif g.resource == "tag":
            clause.append(f"{a}metadata -> 'tags' ? {p}" if postgres else
                          f"EXISTS (SELECT 1 FROM json_each({a}metadata, '$.tags') WHERE value = {p})")
            params.append(g.value)
        grant_parts.append("(" + (" AND ".join(clause) or "1 = 1") + ")")
    if grant_parts:
        parts.append(f"({a}visibility = 'shared' AND ({' OR '.join(grant_parts)}))")
    return ("(" + " OR ".join(parts) + ")") if parts else "1 = 0", params


def readable(rule: AccessRule, memories: Sequence[Any]) -> list[Any]:
    """Filter StoredMemory-like objects by the rule (used for provenance projection)."""
    return [m for m in memories
            if rule.covers(m.scope.user_id, m.visibility, m.scope.session_id, m.metadata)]
