"""A mem0 OSS script runs unchanged on memgrid but for its import line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memgrid import MemgridConfig
from memgrid import Memory as MemgridMemory
from memgrid.compat.mem0 import Memory
from tests.conftest import hashing_config

# written against mem0's documented API (2.x filters/top_k, and the 1.x keyword forms)
MEM0_SCRIPT = '''
from mem0 import Memory

m = Memory()
messages = [
    {"role": "user", "content": "I'm planning to watch a movie tonight. Any recommendations?"},
    {"role": "assistant", "content": "How about thriller movies? They can be quite engaging."},
    {"role": "user", "content": "I'm not a big fan of thriller movies but I love sci-fi movies."},
]
result = m.add(messages, user_id="alice", metadata={"category": "movies"})
assert [r["event"] for r in result["results"]] == ["ADD", "ADD", "ADD"], result

related = m.search("What kind of movies does alice like?", filters={"user_id": "alice"}, top_k=3)
print("search:", [(r["memory"], round(r["score"], 3)) for r in related["results"]])
assert any("sci-fi" in r["memory"] for r in related["results"])
old_style = m.search("sci-fi", user_id="alice", limit=1)
assert len(old_style["results"]) == 1

all_memories = m.get_all(filters={"user_id": "alice"})
assert len(all_memories["results"]) == 3
memory_id = next(r["id"] for r in all_memories["results"] if "sci-fi" in r["memory"])
assert m.get(memory_id)["memory"].endswith("I love sci-fi movies.")

print(m.update(memory_id=memory_id, data="I love sci-fi movies and documentaries."))
history = m.history(memory_id=memory_id)
assert [h["event"] for h in history] == ["ADD", "UPDATE"], history
assert history[1]["old_memory"].endswith("sci-fi movies.") and "documentaries" in history[1]["new_memory"]

print(m.delete(memory_id=memory_id))
assert m.get(memory_id) is None
print(m.delete_all(user_id="alice"))
assert m.get_all(filters={"user_id": "alice"})["results"] == []
m.add("I moved to Austin", user_id="bob")
m.reset()
assert m.get_all(filters={"user_id": "bob"})["results"] == []
print("ok")
'''


def test_a_mem0_script_runs_with_only_its_import_changed(tmp_path: Path, model_home: Path) -> None:
    script = MEM0_SCRIPT.replace("from mem0 import Memory", "from memgrid.compat.mem0 import Memory")
    assert script.count("\n") == MEM0_SCRIPT.count("\n")  # one line changed, nothing added
    home = tmp_path / "home"
    home.mkdir()
    # the script's default store uses the static model: distil it once for the whole run
    MemgridMemory(config=MemgridConfig(home=model_home, path=tmp_path / "warm.db")).close()
    (home / "models").symlink_to((model_home / "models").resolve(), target_is_directory=True)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "MEMGRID_HOME": str(home)})
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("ok")
    assert "Memory updated successfully!" in run.stdout


def test_a_changed_fact_is_an_update_with_the_previous_memory(tmp_path: Path, model_home: Path) -> None:
    m = Memory(hashing_config(model_home, tmp_path / "c.db"))
    first = m.add("I live in Denver", user_id="dana")["results"][0]
    second = m.add([{"role": "user", "content": "I moved to Austin"}], user_id="dana")["results"][0]
    assert second["event"] == "UPDATE" and second["previous_memory"] == "I live in Denver"
    said = m.add("we adopted a cat", user_id="dana", timestamp="2024-01-01")["results"]
    assert [r["event"] for r in said] == ["ADD"]
    # the same words at the same moment are a repeat: mem0's NONE, left out of the results
    assert m.add("we adopted a cat", user_id="dana", timestamp="2024-01-01")["results"] == []
    assert m.get(first["id"])["memory"] == "I live in Denver"  # kept as evidence
    with pytest.raises(ValueError, match="user_id"):
        m.search("where")
    m.close()
