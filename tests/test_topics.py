"""Topic summaries: clustered across sessions, extractive, incremental, dereferenceable, erasable."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from memgrid import Memory
from memgrid.config import TopicConfig
from memgrid.lifecycle.topics import cluster
from tests.conftest import hashing_config

POTTERY = ["pottery class: clay bowls and glaze on the wheel",
           "pottery class: clay bowls and glaze in the kiln",
           "pottery class: clay bowls and glaze for the shelf"]
RUNNING = ["marathon training: long easy run with the running club",
           "marathon training: long tempo run with the running club",
           "marathon training: long hill run with the running club"]


def _topics(mem: Memory, user: str = "u") -> list:
    return mem.list(user_id=user, filters={"kind": "topic"}).items


def test_topics_cluster_across_sessions_and_point_to_their_evidence(mem: Memory) -> None:
    for i, (pot, run) in enumerate(zip(POTTERY, RUNNING, strict=True)):
        mem.add([pot, run], user_id="u", session_id=f"s{i}")
    report = mem.consolidate(user_id="u").topics
    assert (report.topics, report.created, report.unchanged) == (2, 2, 0)
    topics = {t.metadata["label"][0]: t for t in _topics(mem)}
    pottery = next(t for t in topics.values() if "pottery" in t.metadata["label"]
                   or "clay" in t.metadata["label"])
    members = {m.id: m for m in mem.list(user_id="u", filters={"kind": "message"}).items}
    assert {members[s].text for s in pottery.provenance.source_ids} == set(POTTERY)
    assert pottery.provenance.method == "derived" and pottery.text.startswith("Topic: ")
    linked = {r.memory.text for r in mem.related(pottery.id) if "member" in r.kinds}
    assert linked == set(POTTERY)  # a reader dereferences the summary to the exact evidence
    assert all(m.version == 1 for m in members.values())  # verbatim memories untouched


def test_topics_are_incremental_and_erased_with_the_user(mem: Memory) -> None:
    mem.add(POTTERY + RUNNING, user_id="u", session_id="s")
    first = mem.consolidate(user_id="u").topics
    again = mem.consolidate(user_id="u").topics
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.topics)
    mem.add("pottery class: clay bowls and glaze for grandma", user_id="u", session_id="s2")
    third = mem.consolidate(user_id="u").topics
    assert (third.created, third.updated, third.unchanged) == (0, 1, first.topics - 1)
    assert len(_topics(mem)) == first.topics
    mem.erase(user_id="u")
    assert _topics(mem) == [] and mem.list(user_id="u").items == []


def test_topic_summary_is_private_if_any_member_is(mem: Memory) -> None:
    mem.add(POTTERY[:2], user_id="u", session_id="a", visibility="shared")
    mem.add(POTTERY[2], user_id="u", session_id="b")
    mem.add(RUNNING, user_id="u", session_id="c", visibility="shared")
    mem.consolidate(user_id="u")
    assert sorted(t.visibility for t in _topics(mem)) == ["private", "shared"]


def test_topic_channel_lifts_members_and_can_be_disabled(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "t.db")
    config.retrieval.weight_topic_units = 4.0
    with Memory(config=config) as mem:
        mem.add(POTTERY + RUNNING, user_id="u", session_id="s")
        mem.consolidate(user_id="u")
        hits = mem.search("glaze kiln wheel", user_id="u", limit=6)
        assert all(h.memory.kind == "message" for h in hits)
        lifted = {h.memory.text for h in hits if "topic" in h.explain}
        assert lifted >= set(POTTERY)
    off = hashing_config(model_home, tmp_path / "off.db", topics=TopicConfig(enabled=False))
    with Memory(config=off) as mem:
        mem.add(POTTERY, user_id="u", session_id="s")
        assert mem.consolidate(user_id="u").topics.topics == 0 and _topics(mem) == []


def _leaders(vectors: list[np.ndarray], config: TopicConfig) -> list[list[int]]:
    """Leader clustering spelled out: each vector joins the most similar topic, by centroid,
    that is close enough and has room, else starts a topic."""
    members: list[list[int]] = []
    totals: list[np.ndarray] = []
    for i, raw in enumerate(vectors):
        v = raw / np.linalg.norm(raw)
        sims = [float(t @ v) / float(np.linalg.norm(t)) for t in totals]
        open_ = [j for j in range(len(members)) if len(members[j]) < config.max_members
                 and sims[j] >= config.min_similarity]
        if open_:
            j = max(open_, key=lambda j: sims[j])
            members[j].append(i)
            totals[j] = totals[j] + v
        else:
            members.append([i])
            totals.append(v.copy())
    return [m for m in members if len(m) >= config.min_members]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clustering_matches_leader_clustering_when_topics_fill_up(seed: int) -> None:
    """Small topics fill up fast, so memories often pass over a full nearest topic (over 500
    of these 1,000 do) to the next one with room, or start their own; with 100 themes 68-80
    topics have room at once, past the centroid matrix's first 64 rows. It must still be plain
    leader clustering."""
    rng = np.random.default_rng(seed)
    themes = rng.normal(size=(100, 16))
    vectors = [(themes[rng.integers(100)] + 0.5 * rng.normal(size=16)).astype(np.float32)
               for _ in range(1000)]
    config = TopicConfig(min_similarity=0.6, max_members=4, min_members=2)
    memories: list[Any] = [SimpleNamespace(seq=i + 1) for i in range(len(vectors))]
    units = {i + 1: v / np.linalg.norm(v) for i, v in enumerate(vectors)}
    found = cluster(memories, units, config).summarised()
    expected = _leaders(vectors, config)
    assert [[s - 1 for s in t.seqs] for t in found] == expected
    assert any(len(m) == config.max_members for m in expected) and len(expected) > 100
