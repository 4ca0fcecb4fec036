"""Fact extraction off the request path. `add(infer=True, background=True)` stores the turns and
queues them as one job in the same transaction, then returns; a worker drains the queue with
the model. Nothing queued is lost: a job stays in the store until it is done, and a job whose
worker died (its lease ran out) is claimed again, by this process or any other on the store.

Delivery is at least once: a worker killed after writing a job's facts but before marking it
done runs it again, and the judge then finds the same facts already held (NOOP)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from memgrid.llm.infer import infer_facts
from memgrid.storage.jobs import Job, JobCounts

if TYPE_CHECKING:
    from memgrid.memory import Memory

QUEUE = "extract"
log = logging.getLogger(__name__)


class JobError(BaseModel):
    job: int
    state: str = Field(description="pending (to be retried) or failed (no more attempts)")
    attempts: int
    error: str


class ExtractionStatus(BaseModel):
    """Progress of queued fact extraction: jobs (one per background add) by state."""

    pending: int = Field(description="queued, or waiting to be retried")
    running: int
    done: int = Field(description="finished in the last 7 days")
    failed: int = Field(description="gave up after the last attempt; the turns stay stored")
    errors: list[JobError] = Field(description="the newest errors, newest first")

    @classmethod
    def of(cls, counts: JobCounts) -> ExtractionStatus:
        return cls(pending=counts.pending, running=counts.running, done=counts.done,
                   failed=counts.failed, errors=[JobError(job=i, state=s, attempts=a, error=e)
                                                 for i, s, a, e in counts.errors])


@dataclass
class WorkerPolicy:
    lease_s: float = 900.0  # longer than any one job takes; then another worker may claim it
    max_attempts: int = 5
    retry_after_s: float = 30.0  # doubles with each failed attempt
    idle_s: float = 5.0  # how often an idle worker looks for jobs other processes queued


class ExtractionWorker:
    """Drains the extraction queue of a store, in the caller's thread (`drain`) or its own."""

    def __init__(self, memory: Memory, policy: WorkerPolicy | None = None) -> None:
        self.memory = memory
        self.policy = policy or WorkerPolicy()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_one(self) -> bool:
        """Claim and run the oldest due job; False when none is due."""
        jobs = self.memory.store.claim_jobs(QUEUE, 1, self.policy.lease_s)
        for job in jobs:
            self._run(job)
        return bool(jobs)

    def drain(self, max_jobs: int | None = None) -> int:
        """Run due jobs until none is left (or `max_jobs`); returns how many ran."""
        ran = 0
        while (max_jobs is None or ran < max_jobs) and not self._stop.is_set() and self.run_one():
            ran += 1
        return ran

    def _run(self, job: Job) -> None:
        store = self.memory.store
        turns = [m for m in (store.get(job.scope.tenant_id, i) for i in job.memory_ids) if m is not None]
        error = None
        try:
            if turns:  # all deleted or erased since: nothing to extract from
                infer_facts(self.memory, turns, job.actor)
        except Exception as exc:  # a model's failure or any other: kept on the job, retried
            error = f"{type(exc).__name__}: {exc}"
        store.end_job(job, error, self.policy.max_attempts, self.policy.retry_after_s)

    # -- the background thread ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="memgrid-extract", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the job in hand and stop; what is still queued waits for the next worker."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:  # the store is unreachable for now (a restarting PostgreSQL): later
                log.warning("fact extraction worker: the store failed; trying again", exc_info=True)
            self._wake.wait(self.policy.idle_s)
            self._wake.clear()
