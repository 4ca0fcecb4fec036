"""Schemathesis fuzzes every operation of the OpenAPI schema (bounded): no input may cause a 5xx."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from memgrid.server.app import create_app
from memgrid.server.service import MemoryService, open_service
from tests.conftest import hashing_config


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_service(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MemoryService, str]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = hashing_config(tmp, tmp / "fuzz.db", durability="normal")
    if request.param == "postgres":
        import psycopg

        server = request.getfixturevalue("postgres_server")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute("CREATE DATABASE fuzz")
        config.db_url = server.replace("/postgres?", "/fuzz?")
    service = open_service(config)
    _, admin, key = service.access.create_tenant("fuzz")
    user = service.access.create_principal(admin.tenant_id, "user", "fuzzer")
    service.add(user, "a memory to find", visibility="shared")
    yield service, key
    service.memory.close()


@pytest.mark.slow
def test_no_server_errors(fuzz_service: tuple[MemoryService, str]) -> None:
    service, key = fuzz_service
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    headers = {"Authorization": f"Bearer {key}"}
    operations, statuses = 0, Counter[int]()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        # as the tenant admin: the widest surface (unauthenticated paths are in test_server)
        @given(case=operation.as_strategy())
        @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
        def no_5xx(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        no_5xx()
    assert operations >= 15
    assert sum(statuses.values()) >= 15 * 10 and statuses[200] + statuses[201] + statuses[204] > 0, statuses
