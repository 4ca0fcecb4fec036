"""The CLI end to end through typer's runner (same process, real SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memgrid.cli.main import app
from tests.conftest import LOCOMO

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEMGRID_HOME", str(model_home))
    db = tmp_path / "cli.db"

    def call(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, [*args, "--db", str(db), "--embedder", "hashing"])
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return call


def test_verbs_round_trip(cli) -> None:  # type: ignore[no-untyped-def]
    added = json.loads(cli("add", "I moved to Denver", "--user", "alice", "--json"))
    mid = added[0]["id"]
    hits = json.loads(cli("search", "where do I live", "--user", "alice", "--json"))
    assert hits[0]["memory"]["id"] == mid and "explain" in hits[0]
    assert json.loads(cli("get", mid, "--json"))["text"] == "I moved to Denver"
    assert json.loads(cli("update", mid, "--text", "I moved to Austin", "--json"))["version"] == 2
    history = json.loads(cli("history", mid, "--json"))
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]
    page = json.loads(cli("list", "--user", "alice", "--json"))
    assert [i["id"] for i in page["items"]] == [mid]
    assert json.loads(cli("stats", "--json"))["memories"] == 1
    assert "Austin" in cli("context", "where", "--user", "alice")
    assert "Austin" in cli("search", "where", "--user", "alice")  # the rich table
    cli("delete", mid)
    assert json.loads(cli("list", "--user", "alice", "--json"))["items"] == []
    cli("add", "bob's note", "--user", "bob")
    assert "erased 1" in cli("erase", "--user", "bob", "--yes")


def test_errors_are_one_clear_line(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("add", "   ", "--user", "alice", ok=False)
    assert "error:" in out and "empty" in out
    assert "no memory" in cli("get", "nope", ok=False)


def test_serve_refuses_several_processes_on_sqlite(cli) -> None:  # type: ignore[no-untyped-def]
    cli("add", "x", "--user", "u")
    out = cli("serve", "--workers", "2", ok=False)
    assert "needs PostgreSQL" in out


def test_serve_pool_size_is_checked_by_the_config(cli) -> None:  # type: ignore[no-untyped-def]
    cli("add", "x", "--user", "u")
    assert "less than or equal to 1000" in cli("serve", "--pool-size", "5000", ok=False)
    assert "greater than or equal to 1" in cli("serve", "--pool-size", "0", ok=False)


def test_export_import_jsonl(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("add", "first", "--user", "alice")
    cli("add", "second", "--user", "alice")
    dump = tmp_path / "dump.jsonl"
    dump.write_text(cli("export", "--user", "alice"))
    assert len(dump.read_text().splitlines()) == 2
    assert json.loads(cli("import", str(dump), "--json"))["added"] == 0  # already there


@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_import_locomo(cli) -> None:  # type: ignore[no-untyped-def]
    out = json.loads(cli("import", str(LOCOMO / "conv-30.json"), "--user", "jon", "--json"))
    assert out["added"] > 300
    hits = json.loads(cli("search", "dance studio", "--user", "jon", "--json", "-k", "3"))
    assert len(hits) == 3 and all(h["memory"]["metadata"]["dia_id"].startswith("D") for h in hits)


def test_lifecycle_verbs(cli) -> None:  # type: ignore[no-untyped-def]
    old = json.loads(cli("add", "I live in Denver", "--user", "u", "--timestamp", "2023-01-01", "--json"))[0]
    cli("add", "I moved to Austin", "--user", "u", "--timestamp", "2023-03-01")
    chain = json.loads(cli("chain", old["id"], "--json"))
    assert [r["text"] for r in chain] == ["I live in Denver", "I moved to Austin"]
    profile = json.loads(cli("profile", "--user", "u", "--json"))
    assert profile["self|residence"]["text"] == "I moved to Austin"
    then = json.loads(cli("search", "live", "--user", "u", "--as-of", "2023-02-01", "--json"))
    assert [h["memory"]["text"] for h in then] == ["I live in Denver"]
    # the as-of search just recalled Denver, which reinforces it: only Austin is cold
    assert json.loads(cli("archive", "--user", "u", "--threshold", "0.99", "--json"))["archived"] == 1
    assert [h["memory"]["text"] for h in json.loads(cli("search", "live", "--user", "u", "--json"))] == [
        "I live in Denver"]
    assert len(json.loads(cli("search", "live", "--user", "u", "--archived", "--json"))) == 2
    cli("add", "a session note", "--user", "u", "--session", "s1")
    assert json.loads(cli("consolidate", "--user", "u", "--json"))["created"] == 1


@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_bench_locomo_runs_peers_beside_memgrid(tmp_path: Path, model_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMGRID_HOME", str(model_home))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["bench", "locomo", "--data", str(LOCOMO / "conv-30.json"),
                                 "--embedder", "hashing", "--peers", "bm25,memgrid", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text())) == ["memgrid", "bm25"]  # each system once, in order
    bad = runner.invoke(app, ["bench", "locomo", "--data", str(LOCOMO / "conv-30.json"), "--peers", "nope"])
    assert bad.exit_code != 0 and "unknown system 'nope'" in bad.output


def test_an_existing_store_opens_with_its_own_embedder(tmp_path: Path, model_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No --embedder: the one the file was built with, found before any model loads; a
    different one named is refused at once."""
    monkeypatch.setenv("MEMGRID_HOME", str(model_home))
    db = str(tmp_path / "own.db")
    assert runner.invoke(app, ["add", "kites on Sunday", "-u", "ann", "--db", db, "--embedder", "hashing"]
                         ).exit_code == 0
    found = runner.invoke(app, ["search", "kites", "-u", "ann", "--db", db, "--json"])
    assert found.exit_code == 0 and json.loads(found.output)[0]["memory"]["text"] == "kites on Sunday"
    refused = runner.invoke(app, ["search", "kites", "--db", db, "--embedder", "minilm"])
    assert refused.exit_code == 2 and "built with --embedder hashing" in refused.output


def test_search_marks_a_replaced_fact_and_prints_text_as_text(cli) -> None:  # type: ignore[no-untyped-def]
    cli("add", "I live in Lyon [bold]really[/bold]", "--user", "dana", "--timestamp", "2024-01-01")
    cli("add", "We've relocated the family to Galway.", "--user", "dana", "--timestamp", "2024-03-10")
    out = " ".join(cli("search", "Lyon Galway family", "--user", "dana").replace("│", " ").split())
    assert "was true until 2024-03-10" in out  # the table wraps cells: read it as one line
    assert "[bold]really[/bold]" in out  # a memory's brackets are its words, not markup


def test_an_embedded_store_moves_to_a_server_tenant_and_back(tmp_path: Path, model_home: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's migration path: export, import into a tenant (users become principals, so
    the tenant's admin sees everything), export with names, import into an embedded store."""
    from memgrid.server.service import open_service
    from tests.conftest import hashing_config

    monkeypatch.setenv("MEMGRID_HOME", str(model_home))
    mem_db, team_db, back_db = (str(tmp_path / n) for n in ("mem.db", "team.db", "back.db"))

    def call(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    for user, text in (("alice", "I moved to Denver"), ("bob", "bob likes kites")):
        call("add", text, "--user", user, "--db", mem_db, "--embedder", "hashing")
    call("admin", "create-tenant", "acme", "--db", team_db, "--json")
    dump = tmp_path / "dump.jsonl"
    dump.write_text(call("export", "--db", mem_db))
    report = call("import", str(dump), "--db", team_db, "--tenant", "acme", "--embedder", "hashing")
    assert "alice" in report and "bob" in report  # which principals were created or matched
    service = open_service(hashing_config(model_home, Path(team_db)))
    try:
        tenant_id = service.access.find_tenant("acme")
        assert tenant_id is not None
        admin = next(p for p in service.access.principals(tenant_id) if p.kind == "admin")
        seen = service.list_memories(admin, limit=100).items
        names = {p.id: p.name for p in service.access.principals(tenant_id)}
        assert sorted((names[r.user_id or ""], r.text) for r in seen) == [
            ("alice", "I moved to Denver"), ("bob", "bob likes kites")]
        assert service.search(admin, "kites")[0].memory.text == "bob likes kites"
    finally:
        service.close()
    assert json.loads(call("stats", "--db", team_db, "--tenant", "acme", "--json"))["memories"] == 2
    back = tmp_path / "back.jsonl"
    back.write_text(call("export", "--db", team_db, "--tenant", "acme", "--names"))
    call("import", str(back), "--db", back_db, "--embedder", "hashing")
    page = json.loads(call("list", "--db", back_db, "--user", "alice", "--json"))
    assert [r["text"] for r in page["items"]] == ["I moved to Denver"]
    originals = {r["id"] for r in map(json.loads, dump.read_text().splitlines())}
    assert {r["id"] for r in map(json.loads, back.read_text().splitlines())} == originals  # ids kept


def test_bench_halumem_refuses_a_file_in_another_shape_and_infer_without_a_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before anything runs: what is wrong with --data, or that --infer needs a model."""
    monkeypatch.delenv("MEMGRID_LLM_BASE_URL", raising=False)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"sessions": [\n')
    other = tmp_path / "other.jsonl"
    other.write_text('{"conversation": []}\n')
    good = tmp_path / "user.jsonl"
    good.write_text(json.dumps({"sessions": [{"dialogue": [], "memory_points": []}]}) + "\n")
    for data, said in ((tmp_path / "none.jsonl", "no HaluMem file"), (broken, "line 1 is not JSON"),
                       (other, "needs 'sessions'")):
        out = runner.invoke(app, ["bench", "halumem", "--data", str(data)])
        assert out.exit_code == 2 and said in " ".join(out.output.split()), out.output
    out = runner.invoke(app, ["bench", "halumem", "--data", str(good), "--infer"])
    assert out.exit_code == 2 and "--infer needs a model" in " ".join(out.output.split())
    out = runner.invoke(app, ["bench", "halumem", "--data", str(good), "--infer", "--llm-base-url", "local",
                              "--llm-model", "3b"])  # refused before the file or a model is read
    assert out.exit_code == 2 and "0.5b or 1.5b, not '3b'" in " ".join(out.output.split())
