"""The durable work queue, shared by both backends. A job is queued in the transaction that
stores its memories, so work that `add` acknowledged is never lost; a worker leases it, and a
lease that runs out (the worker died) makes it claimable again. Jobs hold memory ids, never text,
and `erase` drops them with their scope."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memgrid.models import Scope, StoredMemory

DONE_KEPT_S = 7 * 86400.0  # finished jobs are counted in progress for a week, then pruned


@dataclass(frozen=True, slots=True)
class Job:
    """Work queued for memories already stored (e.g. fact extraction by a model)."""

    id: int
    queue: str
    scope: Scope
    memory_ids: tuple[str, ...]
    actor: str | None
    attempts: int  # claims so far, this one included


JOB_COLUMNS = "id, queue, tenant_id, user_id, agent_id, session_id, memory_ids, actor, attempts"


def job_from(row: Sequence[Any]) -> Job:
    return Job(int(row[0]), row[1], Scope(row[2], row[3], row[4], row[5]),
               tuple(json.loads(row[6])), row[7], int(row[8]))


def enqueue_sql(p: str) -> str:
    return ("INSERT INTO jobs (queue, tenant_id, user_id, agent_id, session_id, memory_ids, actor, "
            f"state, attempts, created_at) VALUES ({', '.join([p] * 7)}, 'pending', 0, {p})")


def enqueue_params(queue: str, memories: Sequence[StoredMemory], actor: str | None,
                   now: float) -> tuple[Any, ...]:
    scope = memories[0].scope
    return (queue, scope.tenant_id, scope.user_id, scope.agent_id, scope.session_id,
            json.dumps([m.id for m in memories]), actor, now)


def due_sql(p: str, limit: int = 1) -> str:
    """Pending jobs due now, and running ones whose worker's lease ran out, oldest first. Read
    alone first, so an idle worker's poll takes no write lock."""
    return (f"SELECT id FROM jobs WHERE queue = {p} AND state IN ('pending', 'running') "
            f"AND coalesce(lease_until, 0) <= {p} ORDER BY id LIMIT {int(limit)}")


def claim(conn: Any, p: str, queue: str, limit: int, lease_s: float, lock: str = "") -> list[Job]:
    """In the caller's write transaction: the jobs due now (`due_sql`), leased for `lease_s`."""
    now = time.time()
    ids = [r[0] for r in conn.execute(due_sql(p, limit) + lock, (queue, now))]
    if not ids:
        return []
    rows = conn.execute(f"UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = {p} "
                        f"WHERE id IN ({', '.join([p] * len(ids))}) RETURNING {JOB_COLUMNS}",
                        (now + lease_s, *ids)).fetchall()
    return sorted((job_from(r) for r in rows), key=lambda j: j.id)


def end(conn: Any, p: str, job: Job, error: str | None, max_attempts: int, retry_after: float) -> None:
    """In the caller's write transaction: done, failed for good, or pending again later (the wait
    doubles with each attempt). A finished job prunes those finished over a week ago."""
    now = time.time()
    if error is None:
        values: tuple[Any, ...] = ("done", None, now, None)
        conn.execute(f"DELETE FROM jobs WHERE state = 'done' AND done_at < {p}", (now - DONE_KEPT_S,))
    elif job.attempts >= max_attempts:
        values = ("failed", None, now, error[:2000])
    else:
        values = ("pending", now + retry_after * 2 ** (job.attempts - 1), None, error[:2000])
    conn.execute(f"UPDATE jobs SET state = {p}, lease_until = {p}, done_at = {p}, error = {p} WHERE id = {p}",
                 (*values, job.id))


def _where(tenant_id: str | None, queue: str, user_id: str | None, p: str) -> tuple[str, list[Any]]:
    where, params = f"queue = {p}", [queue]
    if tenant_id is not None:
        where += f" AND tenant_id = {p}"
        params.append(tenant_id)
    if user_id is not None:
        where += f" AND user_id = {p}"
        params.append(user_id)
    return where, params


def counts_sql(tenant_id: str | None, queue: str, user_id: str | None, p: str) -> tuple[str, list[Any]]:
    where, params = _where(tenant_id, queue, user_id, p)
    return f"SELECT state, count(*) FROM jobs WHERE {where} GROUP BY state", params


def errors_sql(tenant_id: str | None, queue: str, user_id: str | None, p: str,
               limit: int = 5) -> tuple[str, list[Any]]:
    where, params = _where(tenant_id, queue, user_id, p)
    return (f"SELECT id, state, attempts, error FROM jobs WHERE {where} AND error IS NOT NULL "
            f"ORDER BY id DESC LIMIT {int(limit)}", params)


@dataclass(frozen=True, slots=True)
class JobCounts:
    pending: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    errors: tuple[tuple[int, str, int, str], ...] = ()  # (job id, state, attempts, error), newest first


def job_counts(rows: Sequence[Sequence[Any]], errors: Sequence[Sequence[Any]]) -> JobCounts:
    by_state = {str(state): int(n) for state, n in rows}
    return JobCounts(by_state.get("pending", 0), by_state.get("running", 0), by_state.get("done", 0),
                     by_state.get("failed", 0),
                     errors=tuple((int(i), str(s), int(a), str(e)) for i, s, a, e in errors))
