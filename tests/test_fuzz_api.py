"""Schemathesis over the REST API: every operation on its own (bounded), then stateful runs
that follow the schema's OpenAPI links (ids from earlier responses), as the tenant admin and
as a plain user. No input may cause a 5xx, and every answer must match the schema. The server
has a (scripted) model, so the model routes are fuzzed too."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from memgrid.access.models import Principal
from memgrid.config import LLMConfig
from memgrid.llm.deep import RERANK_SYSTEM, REWRITE_SYSTEM
from memgrid.server.app import create_app
from memgrid.server.service import MemoryService, open_service
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm

# valid requests in plain text, so that chains go deep (the run over single operations sends
# invalid and non-ASCII ones)
STATEFUL = {"mode": "positive", "codec": "ascii"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, use_after_free]


def model_reply(body: dict[str, Any]) -> str:
    """A valid answer to each of memgrid's prompts, whatever the fuzzer asked."""
    system = body["messages"][0]["content"]
    if system == REWRITE_SYSTEM:
        return json.dumps({"queries": ["memory"]})
    if system == RERANK_SYSTEM:
        return json.dumps({"relevant": [1]})
    return json.dumps({"answer": "I don't know", "citations": []})


@pytest.fixture(scope="module")
def fuzz_model() -> Iterator[str]:
    with scripted_llm(model_reply) as llm:
        yield llm.url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 fuzz_model: str) -> Iterator[tuple[MemoryService, list[Principal]]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = hashing_config(tmp, tmp / "fuzz.db", durability="normal")
    config.llm = LLMConfig(base_url=fuzz_model, model="scripted", max_retries=0)
    if request.param == "postgres":
        import psycopg

        server = request.getfixturevalue("postgres_server")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute("CREATE DATABASE fuzz")
        config.db_url = server.replace("/postgres?", "/fuzz?")
    service = open_service(config)
    _, admin, _ = service.access.create_tenant("fuzz")
    user = service.access.create_principal(admin.tenant_id, "user", "fuzzer")
    service.add(user, "a memory to find", visibility="shared")
    yield service, [admin, user]
    service.memory.close()


def fresh_keys(service: MemoryService, principals: list[Principal]) -> dict[str, str]:
    """New keys per test: a fuzz run may revoke any key it can list."""
    return {p.kind: service.access.create_key(p.id).secret or "" for p in principals}


def api_schema(service: MemoryService, generation: dict[str, Any] | None = None) -> Any:
    config = SchemathesisConfig.from_dict({"generation": generation or {}})
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service), config=config)


@pytest.mark.slow
def test_no_server_errors(fuzz_service: tuple[MemoryService, list[Principal]]) -> None:
    service, principals = fuzz_service
    keys = fresh_keys(service, principals)
    schema = api_schema(service)
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    operations, statuses = 0, Counter[int]()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        # as the tenant admin: the widest surface (unauthenticated paths are in test_server)
        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def no_5xx(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        no_5xx()
    assert operations >= 15
    assert sum(statuses.values()) >= 15 * 10 and statuses[200] + statuses[201] + statuses[204] > 0, statuses


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["admin", "user"])
@pytest.mark.parametrize("area", ["memories", "access"])
def test_stateful_runs_follow_links_and_match_the_schema(
        fuzz_service: tuple[MemoryService, list[Principal]], caller: str, area: str) -> None:
    service, _ = fuzz_service
    seen: Counter[tuple[str, str, int]] = Counter()
    # One area per run: schemathesis starts runs only from operations it judges likely to
    # succeed, and it judges a memory write (its user_id and session_id look like ids of
    # resources no operation creates) less likely than any access-control write.
    paths = "^/v1/memories" if area == "memories" else "^/v1/(keys|grants|admin)"
    tenants = iter(range(10**6))

    class APIWorkflow(api_schema(service, STATEFUL).include(path_regex=paths).as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # each run in a tenant of its own: what it draws depends on its own steps only
            # (hypothesis calls a run that draws differently on replay flaky)
            _, admin, admin_key = service.access.create_tenant(f"{area}-{caller}-{next(tenants)}")
            user = service.access.create_principal(admin.tenant_id, "user", "fuzzer")
            key = admin_key if caller == "admin" else service.access.create_key(user.id).secret
            self.headers = {"Authorization": f"Bearer {key}"}
            self.owner = user.id

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": self.headers}

        def before_call(self, case: Any) -> None:
            # what the schema cannot say: whose memory this may be (the fuzzing user's own;
            # an admin must name one), and times the store can hold; the plain list answer,
            # whose ids the links follow
            if (case.operation.path, case.method) == ("/v1/memories", "POST") and isinstance(case.body, dict):
                case.body["user_id"] = self.owner
                case.body.pop("timestamp", None)
                if isinstance(case.query, dict):
                    case.query.pop("events", None)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            seen[(case.method, case.operation.path, response.status_code)] += 1
            case.validate_response(response, checks=CHECKS, headers=self.headers, transport_kwargs=kwargs)

    # generate only: no replay of a stored example against a store that has moved on; a fixed
    # seed, so whether a run follows a link to a real id does not depend on chance (one CI run
    # drew a single valid add in 50 runs and followed no link)
    APIWorkflow.run(settings=settings(max_examples=50, stateful_step_count=6, deadline=None, database=None,
                                      derandomize=True,
                                      phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    # the links carried real ids: writes, updates and deletes of real things succeeded
    ok = {(method, path) for (method, path, status), _ in seen.items() if status < 300}
    if area == "memories":
        assert ("POST", "/v1/memories") in ok, seen
        # some route that takes a memory id answered 2xx: an id from an earlier answer
        assert any("{memory_id}" in path for _, path in ok), seen
    elif caller == "admin":
        assert {("POST", "/v1/keys"), ("POST", "/v1/admin/principals")} <= ok, seen
    else:
        assert ("GET", "/v1/keys") in ok, seen
