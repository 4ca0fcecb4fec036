from __future__ import annotations

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


@pytest.fixture
def mem(tmp_path: Path, model_home: Path) -> Iterator[Memory]:
    """Real SQLite, real FTS5 and usearch; the model-free hashing embedder keeps it fast."""
    m = Memory(config=hashing_config(model_home, tmp_path / "mem.db"))
    yield m
    m.close()


@pytest.fixture(scope="session")
def static_memory_config(model_home: Path) -> MemgridConfig:
    return MemgridConfig(home=model_home)
