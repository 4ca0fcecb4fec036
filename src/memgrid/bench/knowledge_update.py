"""Knowledge-update benchmark: when a user's standing facts change, does the store link each new
statement to the one it replaces, leave controls alone, and answer with the current value
(and, `as_of`, with the value of the time asked)?

Generated LoCoMo-style conversations: filler turns (recombined LoCoMo turns when the shared data
is present), updates over 21 attributes phrased from `ku_cases` (one third of the phrasings
held out and reported apart; half as many users again phrased only from the fresh phrasings,
written after the held-out misses had been read, and as many from the blind ones, written
before the detector ran on them), and controls that must change nothing: statements
about other people, hypotheticals and questions, one-off events and assistant echoes.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memgrid.bench.ku_cases import ATTRIBUTES, Attribute, held_out
from memgrid.bench.report import write_json
from memgrid.config import EmbedderConfig, LLMConfig, MemgridConfig
from memgrid.llm.fact_reader import ModelFactReader
from memgrid.llm.judge import ModelFactJudge
from memgrid.memory import Memory

SPLITS = ("tuned", "held-out", "fresh", "blind")


@dataclass
class Statement:
    attribute: Attribute
    value: str
    session: int
    text: str
    split: str = "tuned"
    role: str = "user"
    control: str = ""  # others, maybe, echo, once; "" for an update


def filler_turns(data: Path) -> list[str]:
    turns: list[str] = []
    for f in sorted(data.glob("*.json")) if data.is_dir() else []:
        raw = json.loads(f.read_text())
        turns.extend(
            t["text"]
            for k, v in raw.items()
            if k.startswith("session_") and isinstance(v, list)
            for t in v
            if t.get("text")
        )
    return turns or [f"Just chatting about the weekend, part {i}." for i in range(200)]


def make_user(rng: random.Random, sessions: int, attributes: int = 8, controls: int = 4,
              only: str = "") -> list[Statement]:
    """Updates of a few attributes over the sessions, then controls naming other values. A user
    `only` "fresh" or "blind" has updates phrased only from that field of `Attribute`."""
    statements = []
    for attribute in rng.sample(ATTRIBUTES, k=attributes):
        values = rng.sample(attribute.values, k=min(3, len(attribute.values)))
        moments = sorted(rng.sample(range(sessions), k=rng.choice([2, 2, 3])))
        phrasings = getattr(attribute, only) if only else attribute.updates
        for value, session in zip(values, moments, strict=False):
            i = rng.randrange(len(phrasings))
            split = only or ("held-out" if held_out(i) else "tuned")
            statements.append(Statement(attribute, value, session, phrasings[i].format(v=value), split))
    for _ in range(controls):
        attribute = rng.choice(ATTRIBUTES)
        kinds = [k for k in ("others", "maybe", "echo", "once") if getattr(attribute, k)]
        kind = rng.choice(kinds)
        pool = getattr(attribute, kind)
        template = pool if isinstance(pool, str) else rng.choice(pool)
        statements.append(
            Statement(
                attribute,
                rng.choice(attribute.values),
                rng.randrange(sessions),
                template.format(v=rng.choice(attribute.values)),
                role="assistant" if kind == "echo" else "user",
                control=kind,
            )
        )
    return statements


class Tally:
    """Counts per split: links expected/predicted/correct, current and as_of answers."""

    def __init__(self) -> None:
        self.n: dict[str, dict[str, int]] = {
            s: dict.fromkeys(
                (
                    "expected",
                    "predicted",
                    "correct",
                    "questions",
                    "current_hits",
                    "as_of_questions",
                    "as_of_hits",
                ),
                0,
            )
            for s in SPLITS
        }
        self.controls = self.false_supersessions = 0

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for split, n in self.n.items():
            out[split] = {
                "link_precision": round(n["correct"] / n["predicted"], 4) if n["predicted"] else 0.0,
                "link_recall": round(n["correct"] / n["expected"], 4) if n["expected"] else 0.0,
                "current@1": round(n["current_hits"] / n["questions"], 4) if n["questions"] else 0.0,
                "as_of@1": round(n["as_of_hits"] / n["as_of_questions"], 4) if n["as_of_questions"] else 0.0,
                **n,
            }
        out["controls"] = self.controls
        out["false_supersession_rate"] = (
            round(self.false_supersessions / self.controls, 4) if self.controls else 0.0
        )
        return out


def run_user(
    mem: Memory,
    user: str,
    statements: list[Statement],
    sessions: int,
    filler: list[str],
    rng: random.Random,
    tally: Tally,
) -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    ids: dict[int, str] = {}
    times: dict[int, datetime] = {}
    for s in range(sessions):
        turns: list[dict[str, Any]] = [{"content": rng.choice(filler)} for _ in range(6)]
        for i, st in enumerate(statements):
            if st.session == s:
                turns.insert(
                    rng.randrange(len(turns) + 1), {"content": st.text, "role": st.role, "metadata": {"i": i}}
                )
        when = start + timedelta(days=14 * s)
        for k, t in enumerate(turns):
            t["timestamp"] = (when + timedelta(minutes=k)).isoformat()
        for record in mem.add(turns, user_id=user, session_id=f"s{s}"):
            if "i" in record.metadata:
                ids[int(record.metadata["i"])] = record.id
                times[int(record.metadata["i"])] = when + timedelta(minutes=int(record.position or 0))
    chains: dict[str, list[int]] = {}
    for i, st in enumerate(statements):
        if not st.control:
            chains.setdefault(st.attribute.name, []).append(i)
    truth = {
        (ids[a], ids[b]): statements[b].split
        for chain in chains.values()
        for a, b in itertools.pairwise(chain)
    }
    for split in truth.values():
        tally.n[split]["expected"] += 1
    links = {(r.supersedes, r.id) for r in mem.export(user_id=user) if r.supersedes}
    split_of = {ids[i]: st.split for i, st in enumerate(statements)}
    controls = {ids[i] for i, st in enumerate(statements) if st.control}
    tally.controls += len(controls)
    tally.false_supersessions += len({m for link in links for m in link} & controls)
    for link in links:
        split = split_of.get(link[1], "tuned")  # a filler turn's link counts against the tuned split
        tally.n[split]["predicted"] += 1
        tally.n[split]["correct"] += link in truth
    asked = (start + timedelta(days=14 * sessions)).isoformat()
    for chain in chains.values():
        if len(chain) < 2:
            continue
        question = statements[chain[-1]].attribute.question
        last, first = statements[chain[-1]], chain[0]
        tally.n[last.split]["questions"] += 1
        hits = mem.search(question, user_id=user, limit=1, reference_time=asked)
        tally.n[last.split]["current_hits"] += [h.memory.id for h in hits] == [ids[chain[-1]]]
        # as of a moment between the first two statements: the first value was true then
        between = times[first] + (times[chain[1]] - times[first]) / 2
        tally.n[statements[first].split]["as_of_questions"] += 1
        hits = mem.search(question, user_id=user, limit=1, reference_time=asked, as_of=between.isoformat())
        tally.n[statements[first].split]["as_of_hits"] += [h.memory.id for h in hits] == [ids[first]]


def run_knowledge_update(
    users: int = 40,
    sessions: int = 8,
    seed: int = 3,
    data: Path = Path("../shared/data/locomo"),
    embedder: str = "static",
    home: Path | None = None,
    json_out: Path | None = None,
    log: Any = print,
    llm: LLMConfig | None = None,
) -> dict[str, Any]:
    """memgrid with the zero-LLM judge and with supersession off; with `llm`, also with the model
    as judge (`fact_judge="model"`), on the same users."""
    rng = random.Random(seed)
    filler = filler_turns(data)
    worlds = [make_user(rng, sessions) for _ in range(users)]
    # users of the fresh phrasings come after, from their own seed: the others' draws stay as they were
    for only, offset in (("fresh", 2), ("blind", 4)):
        own = random.Random(seed + offset)
        worlds += [make_user(own, sessions, only=only) for _ in range((users + 1) // 2)]
    results: dict[str, Any] = {}
    systems = [("memgrid", True, "values"), ("memgrid-no-supersession", False, "values")]
    if llm is not None:
        systems.insert(1, ("memgrid-model-judge", True, "model"))
    for name, supersession, judge in systems:
        workdir = Path(tempfile.mkdtemp(prefix="memgrid-ku-"))
        config = MemgridConfig(
            path=workdir / "ku.db",
            embedder=EmbedderConfig(provider=embedder),  # type: ignore[arg-type]
            durability="normal",
            supersession=supersession,
            fact_judge=judge,  # type: ignore[arg-type]
            llm=llm or LLMConfig(base_url=None),
        )
        if home is not None:
            config.home = home
        tally = Tally()
        local = random.Random(seed + 1)
        started = time.perf_counter()
        with Memory(config=config) as mem:
            for u, statements in enumerate(worlds):
                run_user(mem, f"user{u}", statements, sessions, filler, local, tally)
            model = mem.writer.judge.stats() if isinstance(mem.writer.judge, ModelFactJudge) else None
            if model is not None and isinstance(mem.writer.reader, ModelFactReader):
                model["reader"] = mem.writer.reader.stats()
            if model is not None:
                model.update(model=mem.llm.model_name, seconds=round(time.perf_counter() - started, 1),
                             usage=mem.llm.usage.by_task)
        shutil.rmtree(workdir, ignore_errors=True)
        results[name] = r = tally.report()
        if model is not None:
            r["judge"] = model
            read = model.get("reader", {})
            log(f"{name:>24} judge: {model['calls']} model calls ({model['failures']} failed), "
                f"reader: {read.get('calls', 0)} calls keying {read.get('keyed', 0)}, "
                f"{model['model']}, {model['seconds']} s in all")
        for split in SPLITS:
            x = r[split]
            log(
                f"{name:>24} {split:>8}: links P {x['link_precision']:.3f} R {x['link_recall']:.3f} "
                f"({x['correct']}/{x['expected']}); current@1 {x['current@1']:.3f} ({x['questions']} q); "
                f"as_of@1 {x['as_of@1']:.3f} ({x['as_of_questions']} q)"
            )
        log(f"{name:>24} controls: {r['controls']}, false supersessions {r['false_supersession_rate']:.3f}")
    write_json(json_out, results)
    return results
