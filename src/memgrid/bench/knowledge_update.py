"""Knowledge-update benchmark: do changed facts supersede the old ones, and does search return
the current value?

Generated LoCoMo-style conversations: filler turns (recombined LoCoMo turns when the shared data
is present), facts about the user that change over sessions, phrased from a pool that includes
wordings memgrid's patterns do not know, and distractor facts about other people. Reports
precision/recall of supersession links and recall@1/@5 of the current value, with supersession on
and off.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memgrid.bench.report import write_json
from memgrid.config import EmbedderConfig, MemgridConfig
from memgrid.memory import Memory

PLACES = ["Denver", "Austin", "Boston", "Seattle", "Portland", "Chicago", "Miami", "Toronto", "Lisbon"]
EMPLOYERS = ["Acme", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli"]
PARTNERS = ["Sam", "Alex", "Jordan", "Taylor", "Morgan", "Casey"]
FOODS = ["sushi", "ramen", "tacos", "pizza", "curry", "falafel"]
COUNTS = ["one", "two", "three", "four"]

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "residence": {"values": PLACES, "question": "Where do I live now?", "templates": [
        "I moved to {v} last month.", "I just moved to {v}!", "I live in {v} now.",
        "We finally relocated to {v}.", "These days I call {v} home."]},
    "employer": {"values": EMPLOYERS, "question": "Where do I work now?", "templates": [
        "I'm now working at {v}.", "I got a job at {v}!", "I work for {v} these days.",
        "Started my new role at {v} today."]},
    "partner": {"values": PARTNERS, "question": "Who am I dating now?", "templates": [
        "I'm dating {v} now.", "I'm seeing {v}.", "My girlfriend is {v}.",
        "{v} and I have been together for a few weeks."]},
    "food": {"values": FOODS, "question": "What is my favorite food now?", "templates": [
        "My favorite food is {v}.", "My favourite food is now {v}.", "Lately {v} is what I crave most."]},
    "dogs": {"values": COUNTS, "question": "How many dogs do I have now?", "templates": [
        "I have {v} dogs now.", "I now have {v} dogs.", "Our pack is {v} dogs strong these days."]},
}
DISTRACTORS = ["My brother moved to {p}.", "My sister works at {e}.", "My friend {n} is dating {m}.",
               "My cousin lives in {p}."]


@dataclass
class Statement:
    attribute: str
    value: str
    session: int
    text: str


def filler_turns(data: Path) -> list[str]:
    turns: list[str] = []
    for f in sorted(data.glob("*.json")) if data.is_dir() else []:
        raw = json.loads(f.read_text())
        turns.extend(t["text"] for k, v in raw.items() if k.startswith("session_") and isinstance(v, list)
                     for t in v if t.get("text"))
    return turns or [f"Just chatting about the weekend, part {i}." for i in range(200)]


def make_user(rng: random.Random, sessions: int) -> list[Statement]:
    statements = []
    for attribute, spec in ATTRIBUTES.items():
        values = rng.sample(spec["values"], k=min(3, len(spec["values"])))
        changes = rng.choice([0, 1, 1, 2])
        moments = sorted(rng.sample(range(sessions), k=changes + 1))
        for value, session in zip(values, moments, strict=False):
            template = rng.choice(spec["templates"])
            statements.append(Statement(attribute, value, session, template.format(v=value)))
    return statements


def run_knowledge_update(users: int = 40, sessions: int = 8, seed: int = 3,
                         data: Path = Path("../shared/data/locomo"), embedder: str = "static",
                         home: Path | None = None, json_out: Path | None = None,
                         log: Any = print) -> dict[str, Any]:
    rng = random.Random(seed)
    filler = filler_turns(data)
    worlds = [make_user(rng, sessions) for _ in range(users)]
    results: dict[str, Any] = {}
    for name, supersession in (("memgrid", True), ("memgrid-no-supersession", False)):
        workdir = Path(tempfile.mkdtemp(prefix="memgrid-ku-"))
        config = MemgridConfig(path=workdir / "ku.db", embedder=EmbedderConfig(provider=embedder),  # type: ignore[arg-type]
                               durability="normal", supersession=supersession)
        if home is not None:
            config.home = home
        expected_links = predicted = correct = 0
        hits1 = hits5 = questions = 0
        local = random.Random(seed + 1)
        with Memory(config=config) as mem:
            for u, statements in enumerate(worlds):
                user = f"user{u}"
                ids: dict[int, str] = {}
                start = datetime(2023, 1, 1, tzinfo=UTC)
                for s in range(sessions):
                    turns: list[dict[str, Any]] = [{"content": local.choice(filler)} for _ in range(6)]
                    turns.append({"content": local.choice(DISTRACTORS).format(
                        p=local.choice(PLACES), e=local.choice(EMPLOYERS), n=local.choice(PARTNERS),
                        m=local.choice(PARTNERS))})
                    todays = [(i, st) for i, st in enumerate(statements) if st.session == s]
                    for i, st in todays:
                        turns.insert(local.randrange(len(turns) + 1),
                                     {"content": st.text, "metadata": {"i": i}})
                    when = start + timedelta(days=14 * s)
                    for k, t in enumerate(turns):
                        t["timestamp"] = (when + timedelta(minutes=k)).isoformat()
                    for record in mem.add(turns, user_id=user, session_id=f"s{s}"):
                        if "i" in record.metadata:
                            ids[int(record.metadata["i"])] = record.id
                by_attr: dict[str, list[int]] = {}
                for i, st in enumerate(statements):
                    by_attr.setdefault(st.attribute, []).append(i)
                truth = {(ids[a], ids[b]) for seq in by_attr.values()
                         for a, b in itertools.pairwise(seq)}
                expected_links += len(truth)
                links = {(r.supersedes, r.id) for r in mem.export(user_id=user) if r.supersedes}
                predicted += len(links)
                correct += len(links & truth)
                for attribute, seq in by_attr.items():
                    if len(seq) < 2:
                        continue
                    questions += 1
                    asked = (start + timedelta(days=14 * sessions)).isoformat()
                    hits = mem.search(ATTRIBUTES[attribute]["question"], user_id=user, limit=5,
                                      reference_time=asked)
                    got = [h.memory.id for h in hits]
                    current = ids[seq[-1]]
                    hits1 += got[:1] == [current]
                    hits5 += current in got
        shutil.rmtree(workdir, ignore_errors=True)
        results[name] = {
            "links_expected": expected_links, "links_predicted": predicted,
            "link_precision": round(correct / predicted, 4) if predicted else 0.0,
            "link_recall": round(correct / expected_links, 4) if expected_links else 0.0,
            "questions": questions, "current_recall@1": round(hits1 / questions, 4) if questions else 0.0,
            "current_recall@5": round(hits5 / questions, 4) if questions else 0.0,
        }
        r = results[name]
        log(f"{name:>24}: links P {r['link_precision']:.3f} R {r['link_recall']:.3f} "
            f"({r['links_predicted']}/{r['links_expected']}); current value recall@1 "
            f"{r['current_recall@1']:.3f} @5 {r['current_recall@5']:.3f} over {questions} questions")
    write_json(json_out, results)
    return results
