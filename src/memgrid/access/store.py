"""Tenants, principals, API keys, grants and the audit log, in the memory database itself.

One implementation over DB-API for both backends (the SQL here is plain CRUD); `?` is rewritten
to `%s` for PostgreSQL. API keys are random 32-byte secrets, so one SHA-256 per lookup is the
right hash (no password-stretching needed); only the hash is stored. The audit table refuses
UPDATE and DELETE at the database level.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memgrid.access.models import (
    ApiKey,
    AuditEvent,
    Grant,
    Principal,
    PrincipalKind,
    TenantSettings,
    from_epoch,
    to_epoch,
)
from memgrid.access.rules import AccessRule, GrantRule
from memgrid.config import MemgridConfig
from memgrid.errors import InvalidInputError, NotFoundError

_TABLES = """
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_settings (
    tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS principals (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    acts_for TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (tenant_id, name));
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
    key_hash TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, grantee TEXT NOT NULL, owner TEXT,
    resource TEXT NOT NULL, value TEXT, can_read INTEGER NOT NULL, can_write INTEGER NOT NULL,
    valid_from REAL, valid_to REAL, created_by TEXT NOT NULL, created_at REAL NOT NULL,
    revoked_at REAL);
CREATE INDEX IF NOT EXISTS ix_grants_grantee ON grants (tenant_id, grantee);
CREATE TABLE IF NOT EXISTS audit (
    id {serial}, tenant_id TEXT NOT NULL, principal_id TEXT, action TEXT NOT NULL,
    target TEXT, result TEXT NOT NULL, at REAL NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_audit_tenant ON audit (tenant_id, id);
"""
_SQLITE_GUARDS = """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_PG_GUARDS = """
CREATE OR REPLACE FUNCTION memgrid_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION memgrid_audit_append_only();
"""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _create_pg_tables(conn: Any) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('memgrid-access'))")
        ddl = _TABLES.format(serial="BIGSERIAL PRIMARY KEY").replace(" REAL", " DOUBLE PRECISION")
        for statement in ddl.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(_PG_GUARDS)


def has_access_tables(config: MemgridConfig) -> bool:
    """Whether a database is a server's (holds tenants), without creating anything."""
    if config.db_url:
        import psycopg

        with psycopg.connect(config.db_url) as conn:
            return conn.execute("SELECT to_regclass('tenants') IS NOT NULL").fetchone() == (True,)
    path = config.db_path()
    if not path.exists():
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tenants'").fetchone() is not None


class AccessStore:
    """Every request authenticates and writes an audit row here, so on PostgreSQL it has its
    own connection pool: a single shared connection would queue a server's requests."""

    def __init__(self, sqlite_path: Path | None = None, postgres_url: str | None = None,
                 pool_size: int = 8) -> None:
        self._lock = threading.RLock()
        self.pool: Any = None
        self.conn: Any = None
        if postgres_url is not None:
            from memgrid.storage.postgres_pool import open_pool

            self.pool = open_pool(postgres_url, pool_size, setup=_create_pg_tables)
        else:
            target = ":memory:" if sqlite_path is None else str(sqlite_path)
            self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout = 10000")
            self.conn.executescript(_TABLES.format(serial="INTEGER PRIMARY KEY") + _SQLITE_GUARDS)

    def _x(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.pool is not None:
            with self.pool.connection() as conn:
                cur = conn.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall()) if cur.description else []
        with self._lock:
            cur = self.conn.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    # -- tenants and principals -------------------------------------------------------------

    def create_tenant(self, name: str) -> tuple[str, Principal, str]:
        """A tenant with its first admin; returns (tenant id, admin, admin API key)."""
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise InvalidInputError("a tenant name must be non-empty, without leading or trailing spaces")
        if name in self.tenants().values():
            raise InvalidInputError(f"a tenant named {name!r} already exists; pick another name")
        tenant_id = _id("t")
        self._x("INSERT INTO tenants VALUES (?, ?, ?)", (tenant_id, name, time.time()))
        admin = self.create_principal(tenant_id, "admin", "admin")
        return tenant_id, admin, self.create_key(admin.id).secret or ""

    def console_key(self, tenant_id: str, hours: float = 12.0) -> ApiKey:
        """An admin key for `memgrid ui` on a store that `Memory` wrote: its tenant (no row in
        the access tables yet) gets one, and an admin principal named 'console' is made once."""
        if tenant_id not in self.tenants():
            self._x("INSERT INTO tenants VALUES (?, ?, ?)", (tenant_id, tenant_id, time.time()))
        admin = next((p for p in self.principals(tenant_id)
                      if p.kind == "admin" and p.name == "console"), None)
        if admin is None:
            admin = self.create_principal(tenant_id, "admin", "console")
        return self.create_key(admin.id, time.time() + hours * 3600)

    def tenant_settings(self, tenant_id: str) -> TenantSettings:
        rows = self._x("SELECT settings FROM tenant_settings WHERE tenant_id = ?", (tenant_id,))
        return TenantSettings.model_validate_json(rows[0][0]) if rows else TenantSettings()

    def set_tenant_settings(self, tenant_id: str, settings: TenantSettings) -> None:
        self._x("INSERT INTO tenant_settings VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE "
                "SET settings = excluded.settings, updated_at = excluded.updated_at",
                (tenant_id, settings.model_dump_json(), time.time()))

    def create_principal(self, tenant_id: str, kind: PrincipalKind, name: str,
                         acts_for: list[str] | None = None) -> Principal:
        if kind not in ("admin", "user", "agent"):
            raise InvalidInputError("kind must be admin, user or agent")
        if kind != "agent" and acts_for:
            raise InvalidInputError("only agents act for users")
        if not self._x("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)):
            raise NotFoundError(f"no tenant {tenant_id!r}")
        for user in acts_for or []:
            owner = self.principal(user)
            if owner is None or owner.tenant_id != tenant_id or owner.kind != "user":
                raise InvalidInputError(f"acts_for {user!r} is not a user of this tenant")
        if self._x("SELECT 1 FROM principals WHERE tenant_id = ? AND name = ?", (tenant_id, name)):
            raise InvalidInputError(f"a principal named {name!r} already exists in this tenant")
        p = Principal(id=_id(kind[0]), tenant_id=tenant_id, kind=kind, name=name,
                      acts_for=list(acts_for or []))
        self._x("INSERT INTO principals VALUES (?, ?, ?, ?, ?, ?)",
                (p.id, tenant_id, kind, name, json.dumps(p.acts_for), time.time()))
        return p

    def principal(self, principal_id: str) -> Principal | None:
        rows = self._x("SELECT id, tenant_id, kind, name, acts_for FROM principals WHERE id = ?",
                       (principal_id,))
        if not rows:
            return None
        r = rows[0]
        return Principal(id=r[0], tenant_id=r[1], kind=r[2], name=r[3], acts_for=json.loads(r[4]))

    def principals(self, tenant_id: str) -> list[Principal]:
        rows = self._x("SELECT id FROM principals WHERE tenant_id = ? ORDER BY created_at", (tenant_id,))
        return [p for r in rows if (p := self.principal(r[0])) is not None]

    def tenants(self) -> dict[str, str]:
        """Every tenant of this database: id -> name."""
        return {r[0]: r[1] for r in self._x("SELECT id, name FROM tenants ORDER BY created_at")}

    def find_tenant(self, id_or_name: str) -> str:
        """A tenant's id, from its id or its (unique) name."""
        tenants = self.tenants()
        if id_or_name in tenants:
            return id_or_name
        named = [t for t, name in tenants.items() if name == id_or_name]
        if len(named) == 1:
            return named[0]
        listed = ", ".join(f"{t} ({n})" for t, n in tenants.items()) or "none"
        raise InvalidInputError(f"no tenant {id_or_name!r} in this server database; tenants: {listed}")

    def principal_ids(self, tenant_id: str, names: list[str], kind: PrincipalKind,
                      acts_for: dict[str, list[str]] | None = None) -> tuple[dict[str, str], list[str]]:
        """Principals for owner names brought by an import: a principal with that id, else the
        one with that name, else a new one (an agent acting for `acts_for[name]`). Returns
        name -> id and the names created."""
        known = {p.id: p for p in self.principals(tenant_id)}
        by_name = {p.name: p for p in known.values()}
        out: dict[str, str] = {}
        created: list[str] = []
        for name in dict.fromkeys(names):
            found = known.get(name) or by_name.get(name)
            if found is not None and found.kind != kind:
                raise InvalidInputError(
                    f"{name!r} is a {found.kind} principal of this tenant, not a {kind}; rename it first")
            if found is None:
                found = self.create_principal(tenant_id, kind, name, (acts_for or {}).get(name))
                created.append(name)
            out[name] = found.id
        return out, created

    # -- API keys ---------------------------------------------------------------------------

    def create_key(self, principal_id: str, expires_at: float | None = None) -> ApiKey:
        p = self.principal(principal_id)
        if p is None:
            raise NotFoundError(f"no principal {principal_id!r}")
        key_id, secret, now = secrets.token_hex(6), secrets.token_urlsafe(32), time.time()
        self._x("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (key_id, p.id, p.tenant_id, _hash(secret), now, expires_at))
        return ApiKey(id=key_id, principal_id=p.id, tenant_id=p.tenant_id, created_at=from_epoch(now),
                      expires_at=from_epoch(expires_at), secret=f"mg_{key_id}_{secret}")

    def keys(self, tenant_id: str, principal_id: str | None = None) -> list[ApiKey]:
        """Keys of a tenant (or of one principal), without their secrets."""
        sql = ("SELECT id, principal_id, tenant_id, created_at, expires_at, revoked_at FROM api_keys "
               "WHERE tenant_id = ?")
        params: tuple[Any, ...] = (tenant_id,)
        if principal_id is not None:
            sql, params = sql + " AND principal_id = ?", (*params, principal_id)
        return [ApiKey(id=r[0], principal_id=r[1], tenant_id=r[2], created_at=from_epoch(r[3]),
                       expires_at=from_epoch(r[4]), revoked=r[5] is not None)
                for r in self._x(sql + " ORDER BY created_at", params)]

    def revoke_key(self, tenant_id: str, key_id: str) -> None:
        if not self._x("SELECT 1 FROM api_keys WHERE id = ? AND tenant_id = ?", (key_id, tenant_id)):
            raise NotFoundError(f"no key {key_id!r}")
        self._x("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), key_id))

    def authenticate(self, presented: str) -> Principal | None:
        """The key's principal if the key exists, matches, is not revoked and not expired; the
        principal carries the key's id and expiry (a key mints no key that outlives it)."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "mg":
            return None
        rows = self._x("SELECT principal_id, key_hash, expires_at, revoked_at FROM api_keys WHERE id = ?",
                       (parts[1],))
        if not rows:
            return None
        principal_id, key_hash, expires_at, revoked_at = rows[0]
        if not hmac.compare_digest(key_hash, _hash(parts[2])) or revoked_at is not None:
            return None
        if expires_at is not None and expires_at <= time.time():
            return None
        p = self.principal(principal_id)
        return None if p is None else p.model_copy(
            update={"key_id": parts[1], "key_expires_at": from_epoch(expires_at)})

    # -- grants -----------------------------------------------------------------------------

    def create_grant(self, grant: Grant) -> Grant:
        grant = grant.model_copy(update={"id": _id("g"), "created_at": from_epoch(time.time())})
        self._x("INSERT INTO grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (grant.id, grant.tenant_id, grant.grantee, grant.owner, grant.resource, grant.value,
                 int(grant.read), int(grant.write), to_epoch(grant.valid_from), to_epoch(grant.valid_to),
                 grant.created_by, to_epoch(grant.created_at)))
        return grant

    def revoke_grant(self, tenant_id: str, grant_id: str) -> Grant:
        found = [g for g in self.grants(tenant_id) if g.id == grant_id]
        if not found:
            raise NotFoundError(f"no grant {grant_id!r}")
        self._x("UPDATE grants SET revoked_at = ? WHERE id = ?", (time.time(), grant_id))
        return found[0]

    def grants(self, tenant_id: str, grantees: list[str] | None = None,
               active_at: float | None = None) -> list[Grant]:
        rows = self._x(
            "SELECT id, tenant_id, grantee, owner, resource, value, can_read, can_write, valid_from, "
            "valid_to, created_by, created_at, revoked_at FROM grants WHERE tenant_id = ? "
            "ORDER BY created_at",
            (tenant_id,))
        out = []
        for r in rows:
            g = Grant(id=r[0], tenant_id=r[1], grantee=r[2], owner=r[3], resource=r[4], value=r[5],
                      read=bool(r[6]), write=bool(r[7]), valid_from=from_epoch(r[8]),
                      valid_to=from_epoch(r[9]), created_by=r[10], created_at=from_epoch(r[11]),
                      revoked=r[12] is not None)
            if grantees is not None and g.grantee not in grantees:
                continue
            if active_at is not None and not g.active(active_at):
                continue
            out.append(g)
        return out

    def rule_for(self, p: Principal, right: str = "read") -> AccessRule:
        """Resolved now, from the tables, on every request: grant and key changes apply at once."""
        if p.kind == "admin":
            return AccessRule(admin=True)
        own = {p.id} if p.kind == "user" else set(p.acts_for)
        active = self.grants(p.tenant_id, grantees=[p.id, *sorted(own)], active_at=time.time())
        rules = tuple(GrantRule(g.owner, g.resource, g.value) for g in active
                      if (g.read if right == "read" else g.write))
        return AccessRule(own_users=frozenset(own), grants=rules)

    # -- audit ------------------------------------------------------------------------------

    def audit(self, tenant_id: str, principal_id: str | None, action: str, target: str | None,
              result: str, detail: dict[str, Any] | None = None) -> None:
        self._x("INSERT INTO audit (tenant_id, principal_id, action, target, result, at, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tenant_id, principal_id, action, target, result, time.time(), json.dumps(detail or {})))

    def audit_log(self, tenant_id: str, after_id: int = 0, limit: int = 100,
                  principal_id: str | None = None, action: str | None = None,
                  before_id: int | None = None, newest_first: bool = False) -> list[AuditEvent]:
        """Events after `after_id` (and before `before_id`), oldest first, or newest first as a
        person pages back through the log."""
        sql = ("SELECT id, tenant_id, principal_id, action, target, result, at, detail FROM audit "
               "WHERE tenant_id = ? AND id > ?")
        params: list[Any] = [tenant_id, after_id]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        if principal_id:
            sql += " AND principal_id = ?"
            params.append(principal_id)
        if action:
            sql += " AND action = ?"
            params.append(action)
        order = "DESC" if newest_first else ""
        rows = self._x(sql + f" ORDER BY id {order} LIMIT ?", (*params, limit))
        return [AuditEvent(id=r[0], tenant_id=r[1], principal_id=r[2], action=r[3], target=r[4],
                           result=r[5], at=datetime.fromtimestamp(r[6], tz=UTC),
                           detail=json.loads(r[7])) for r in rows]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()  # a no-op when already closed
        else:
            with self._lock:
                self.conn.close()
