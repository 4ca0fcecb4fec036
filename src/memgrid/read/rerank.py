"""Rerank stages after fusion. Each adjusts fused scores in place and records what it did."""

from __future__ import annotations

import math

from memgrid.access.rules import readable
from memgrid.config import RetrievalConfig
from memgrid.lifecycle.retention import retention
from memgrid.models import Scope
from memgrid.read.asked import AskedFacts
from memgrid.read.fusion import Explain
from memgrid.read.timeparse import vague_time
from memgrid.storage.base import Placement, Store
from memgrid.text import keywords, question_share, tokens
from memgrid.validation import Filters


def boost_sessions(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                   placed: dict[int, Placement]) -> None:
    """Coarse granularity: a session many strong hits fall in lifts all its turns."""
    per_session: dict[str | None, list[float]] = {}
    for seq, p in placed.items():
        per_session.setdefault(p.session_id, []).append(scores[seq])
    session_score = {sid: sum(sorted(v, reverse=True)[: cfg.session_top]) for sid, v in per_session.items()}
    rank_of = {sid: r for r, sid in enumerate(sorted(session_score, key=lambda s: -session_score[s]), 1)}
    for seq, p in placed.items():
        r = rank_of[p.session_id]
        scores[seq] += cfg.session_weight / (cfg.rrf_k + r)
        explain.setdefault(seq, {})["session"] = (r, session_score[p.session_id])


def boost_ranked_sessions(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                          placed: dict[int, Placement], session_rank: dict[str | None, int]) -> None:
    """Turns of sessions whose consolidated transcript matched the query move up."""
    for seq, p in placed.items():
        r = session_rank.get(p.session_id)
        if r is not None:
            scores[seq] += cfg.weight_session_units / (cfg.rrf_k + r)
            explain.setdefault(seq, {})["session_unit"] = (r, 0.0)


def boost_topic_members(cfg: RetrievalConfig, store: Store, scores: dict[int, float], explain: Explain,
                        topics: list[tuple[int, float]]) -> None:
    """Candidates that belong to a topic whose summary matched the query move up, by topic rank
    (like session units: a rerank of what the channels found, not a flood of every member)."""
    rank = {seq: r for r, (seq, _) in enumerate(topics, 1)}
    best: dict[int, int] = {}
    for topic, edges in store.links(list(rank)).items():
        for member, _weight, kind in edges:
            if kind == "member" and member in scores:
                best[member] = min(best.get(member, rank[topic]), rank[topic])
    for seq, r in best.items():
        scores[seq] += cfg.weight_topic_units / (cfg.rrf_k + r)
        explain.setdefault(seq, {})["topic"] = (r, 0.0)


def boost_recent(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                 placed: dict[int, Placement], now: float) -> None:
    half_life = cfg.recency_half_life_days * 86400.0
    for seq, p in placed.items():
        boost = cfg.recency_weight / (cfg.rrf_k + 1) * math.exp(
            -max(0.0, now - p.when) * math.log(2) / half_life)
        scores[seq] += boost
        explain.setdefault(seq, {})["recency"] = (0, boost)


def prefer_current(cfg: RetrievalConfig, store: Store, scope: Scope, filters: Filters,
                   scores: dict[int, float], explain: Explain, placed: dict[int, Placement]) -> None:
    """Superseded facts stay findable (they are evidence) but rank below what is true now, and
    the fact that replaced them inherits their relevance ("where does she live?" matched the old
    "I live in Denver"; the answer is the newer "I moved to Austin"), if the caller's scope,
    filters and access rule admit it."""
    inherited: dict[int, float] = {}
    for seq, p in placed.items():
        if p.superseded_by is None:
            continue
        relevance = scores[seq]
        scores[seq] *= cfg.superseded_weight
        explain.setdefault(seq, {})["superseded"] = (0, cfg.superseded_weight)
        current = store.get(scope.tenant_id, p.superseded_by)
        while current is not None and current.superseded_by:  # follow the chain to its end
            current = store.get(scope.tenant_id, current.superseded_by)
        if current is not None and current.seq is not None and current.seq != seq:
            inherited[current.seq] = max(inherited.get(current.seq, 0.0), relevance)
    for seq in store.matching(list(inherited), scope, filters):
        if inherited[seq] > scores.get(seq, 0.0):
            scores[seq] = inherited[seq]
            explain.setdefault(seq, {})["current_of"] = (0, inherited[seq])


def weight_retention(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                     placed: dict[int, Placement], now: float) -> None:
    for seq, p in placed.items():
        r = retention(now, p.when, p.last_access, p.importance, p.access_count, cfg.retention_half_life_days)
        scores[seq] *= 1.0 - cfg.retention_weight + cfg.retention_weight * r
        explain.setdefault(seq, {})["retention"] = (0, r)


def discount_questions(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                       placed: dict[int, Placement]) -> None:
    """Turns that only ask rank a little below turns that tell. Applied after spreading and
    the session boosts, so a question still passes its full score to the reply beside it."""
    for seq, p in placed.items():
        share = question_share(p.text)
        if share > 0:
            scores[seq] *= 1.0 - cfg.question_discount * share
            explain.setdefault(seq, {})["question"] = (0, share)


def prefer_dated(cfg: RetrievalConfig, scores: dict[int, float], explain: Explain,
                 placed: dict[int, Placement]) -> None:
    """For 'when' questions, turns that say no time rank a little lower: a date is read off a
    turn that says when ('last Friday', 'tomorrow', 'in May'). On LoCoMo 57-71% of the evidence
    for such questions says a time, against 12-15% of the other candidates."""
    for seq, p in placed.items():
        if p.mentioned_from is None and not vague_time(p.text):  # resolved on write, or vague
            scores[seq] *= 1.0 - cfg.undated_discount
            explain.setdefault(seq, {})["undated"] = (0, cfg.undated_discount)


def prefer_named_speakers(cfg: RetrievalConfig, names: list[str], scores: dict[int, float],
                          explain: Explain, placed: dict[int, Placement]) -> None:
    """A question about Melanie is answered mostly by what Melanie said (83% of evidence turns on
    the LoCoMo dev split, about half by chance). When the query names someone who speaks among
    the candidates, turns by everyone else rank a little lower."""
    wanted = set(names)
    named = {sp for sp in {p.speaker for p in placed.values()} if sp and not wanted.isdisjoint(tokens(sp))}
    if not named:
        return
    for seq, p in placed.items():
        if p.speaker not in named:
            scores[seq] *= 1.0 - cfg.speaker_discount
            explain.setdefault(seq, {})["other_speaker"] = (0, cfg.speaker_discount)


def _spread(scores: dict[int, float], explain: Explain, bonus: dict[int, float], label: str) -> None:
    """Add spread activation to scores. `bonus` holds only memories the caller may read."""
    for seq, extra in bonus.items():
        scores[seq] = scores.get(seq, 0.0) + extra
        explain.setdefault(seq, {})[label] = (0, extra)


def spread_to_neighbors(cfg: RetrievalConfig, store: Store, scope: Scope, filters: Filters,
                        scores: dict[int, float], explain: Explain, placed: dict[int, Placement]) -> None:
    """Adjacent turns share context ('What did she say to that?'): pass them part of a score.
    A turn that asks passes more to the turn after it: the reply holds the answer, often in
    words unlike the later question's ('How often do you work out?' -> 'Three times a week').
    Turns two away get a smaller share: 'I painted this' -> 'What inspired you?' -> the answer.
    Only turns the caller may read join; their placement comes with them."""
    top = sorted(scores, key=lambda s: -scores[s])[: cfg.neighbor_from]
    asks = {s: question_share(placed[s].text) for s in top if s in placed} if cfg.reply_weight else {}
    bonus: dict[int, float] = {}
    radius = 2 if cfg.second_neighbor_weight else 1
    for seq, near in store.neighbors(top, radius, scope, filters).items():
        for n in near:
            if abs(n.offset) == 2:
                share = cfg.second_neighbor_weight
            else:
                reply = cfg.reply_weight * asks.get(seq, 0.0) if n.offset == 1 else 0.0
                share = cfg.neighbor_weight + reply
            bonus[n.seq] = max(bonus.get(n.seq, 0.0), scores[seq] * share)
            placed.setdefault(n.seq, n.placement)
    _spread(scores, explain, bonus, "neighbor")


def spread_along_links(cfg: RetrievalConfig, store: Store, scope: Scope, filters: Filters,
                       scores: dict[int, float], explain: Explain) -> None:
    """Bounded spreading activation over write-time links (similar, entity): the top hits pass a
    share of their score, scaled by link weight, to what they link to, for up to `link_hops` hops
    (each hop decays by link_weight again; the strongest path counts). Activation travels only
    through memories the caller may read, so an unreadable memory cannot shape the ranking."""
    frontier = {s: scores[s] for s in sorted(scores, key=lambda s: -scores[s])[: cfg.link_from]}
    bonus: dict[int, float] = {}
    for _ in range(cfg.link_hops):
        reached: dict[int, float] = {}
        for seq, edges in store.links(list(frontier)).items():
            for other, weight, kind in edges:
                activation = frontier[seq] * cfg.link_weight * weight
                if kind != "member" and activation > max(bonus.get(other, 0.0), reached.get(other, 0.0)):
                    reached[other] = activation
        readable = store.matching([s for s in reached if s not in scores], scope, filters)
        frontier = {s: a for s, a in reached.items() if s in scores or s in readable}
        bonus.update(frontier)
    _spread(scores, explain, bonus, "link")


ECHO_SHARE = 0.6  # this much of a user's statement's words inside an assistant turn: an echo


def rank_echoes_below(scores: dict[int, float], explain: Explain, placed: dict[int, Placement]) -> None:
    """An assistant turn that repeats what the user said ("so you live in Lyon") ranks just
    below the user's own statement: the user's words are the evidence, the echo only quotes it."""
    if not any(p.role == "assistant" for seq, p in placed.items() if seq in scores):
        return  # the common case (conversations between people): nothing to read
    said = [(seq, own) for seq, p in placed.items()
            if p.role == "user" and seq in scores and len(own := set(keywords(p.text))) >= 2]
    if not said:
        return
    for seq, p in placed.items():
        if p.role != "assistant" or seq not in scores:
            continue
        words = set(keywords(p.text, limit=64))
        floor = min((scores[u] for u, own in said
                     if len(own & words) >= ECHO_SHARE * len(own) and scores[u] <= scores[seq]),
                    default=None)
        if floor is not None:
            scores[seq] = floor * 0.999
            explain.setdefault(seq, {})["echo"] = (0, floor)


def put_current_fact_first(store: Store, scope: Scope, filters: Filters, asked: AskedFacts,
                           scores: dict[int, float], explain: Explain, then: float | None = None) -> None:
    """A question about the present ("where do I live now?") gets the memory that holds the
    asked fact now first, found by its key even where the words differ ("we've relocated the
    family to Galway") and no older statement was linked; `as_of`, or a time the question names
    (`then`), the one that held it then; "used to", "before", the one the current holder
    replaced. Only where the search is not narrowed (a session, filters, a time): the holder
    would bypass what narrows it."""
    if not asked.keys or scope.session_id or filters.kinds or filters.roles or filters.speakers or \
            filters.metadata or filters.visibility or filters.time_range or filters.event_after or \
            filters.event_before is not None:
        return
    at = filters.as_of
    if asked.when == "then":
        if then is None and at is None:
            return  # a question about the past that names no time: no one holder to prefer
        at = min(t for t in (at, then) if t is not None)
    # as_of T: the newest statement valid then, linked or not (a new hobby joins the old ones)
    held = store.current_facts(scope, asked.keys, at=at)
    if asked.when == "earlier":  # what held each fact just before its holder (then) said otherwise
        held = {key: old for m in held.values()
                for key, old in store.current_facts(scope, [m.fact_key or ""],
                                                    at=(m.event_time or 0.0) - 1e-3).items()
                if m.event_time is not None}
    shown = [m for m in held.values()
             if (filters.include_archived or not m.archived) and m.seq is not None
             and (filters.access is None or readable(filters.access, [m]))]
    if not shown:
        return
    top = max(scores.values(), default=0.0)
    for r, m in enumerate(sorted(shown, key=lambda m: -(m.event_time or m.created_at or 0.0)), 1):
        assert m.seq is not None
        scores[m.seq] = top * 1.01 + 1e-6 / r
        explain.setdefault(m.seq, {})["fact"] = (r, 0.0)
