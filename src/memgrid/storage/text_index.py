"""Top-k BM25 for large SQLite stores (tantivy), kept beside the file as a rebuildable cache.

FTS5 scores every row that holds a query term, so its cost grows with the store (1M recombined
LoCoMo turns: 54 ms p50 a query); tantivy's block-max WAND skips what cannot reach the top k
(0.8 ms on the same rows). SQLite stays the source of truth: a trigger-kept log (`text_log`)
names every memory whose text changed, this index stores the last log id it applied in a stamp
document committed together with the data, and the store applies what the log holds past the
stamp before it searches. A crash, another process's writes or a deleted folder cost a catch-up
or a rebuild, never a stale answer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import tantivy
from tantivy import Filter, Occur, Query, TextAnalyzerBuilder, Tokenizer

from memgrid.access.rules import AccessRule
from memgrid.errors import StorageError
from memgrid.models import Scope
from memgrid.validation import Filters

STAMP_SEQ = 0  # memory seqs start at 1, so seq 0 holds the stamp
COLUMNS = ("index_text", "entities")
SCOPE_FIELDS = ("tenant_id", "user_id", "agent_id", "session_id", "visibility")
# seq, index_text, entities, kind, *SCOPE_FIELDS, archived: what a search ranks and filters on
ROW_SQL = "SELECT seq, index_text, entities, kind, " + ", ".join(SCOPE_FIELDS) + ", archived FROM memories"
Row = tuple[int, str, str, str, str, str | None, str | None, str | None, str, int]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("seq", stored=True, fast=True, indexed=True)
    builder.add_unsigned_field("applied", stored=True)
    builder.add_text_field("db", stored=True, tokenizer_name="raw")
    for column in COLUMNS:
        builder.add_text_field(column, stored=False, tokenizer_name="memgrid")
    for name in ("kind", *SCOPE_FIELDS):
        builder.add_text_field(name, stored=False, tokenizer_name="raw")
    builder.add_unsigned_field("archived", stored=False, indexed=True)
    return builder.build()


def can_filter(filters: Filters) -> bool:
    """Whether the index can restrict a search to these filters, exactly or to a superset that
    the SQL check after it narrows (the access rule's tag and namespace grants). Other filters
    (speakers, times, metadata) are left to FTS5 joined with the scope."""
    return not (filters.roles or filters.speakers or filters.event_after is not None
                or filters.event_before is not None or filters.metadata
                or filters.as_of is not None or filters.time_range is not None)


def _analyzer() -> tantivy.TextAnalyzer:
    """FTS5's `porter unicode61 remove_diacritics` in tantivy's terms: split on what is not a
    letter or digit, lowercase, fold accents, stem."""
    return (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.lowercase())
            .filter(Filter.ascii_fold()).filter(Filter.stemmer("english")).build())


class TextIndexBusy(StorageError):
    """Another process holds this index's writer; that process keeps it current."""


class TextIndex:
    """One writer per folder (tantivy's lock), held while the store is open."""

    def __init__(self, path: Path | None, db_uuid: str) -> None:
        self.db_uuid = db_uuid
        self.schema = _schema()
        self.analyzer = _analyzer()
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(self.schema, path=None if path is None else str(path))
        except (OSError, ValueError):  # unreadable or another schema: start over
            if path is None:
                raise
            for child in path.iterdir():
                child.unlink()
            self.index = tantivy.Index(self.schema, path=str(path))
        self.index.register_tokenizer("memgrid", self.analyzer)
        try:
            self.writer = self.index.writer(heap_size=64_000_000, num_threads=1)
        except ValueError as exc:
            raise TextIndexBusy(f"text index {path} is being written by another process") from exc
        self.applied = self._read_stamp()

    def _read_stamp(self) -> int | None:
        """The last log id this index reflects, or None: never built, built by a crash before
        its first commit, or built for another database file."""
        self.index.reload()
        searcher = self.index.searcher()
        hits = searcher.search(Query.term_query(self.schema, "seq", STAMP_SEQ), 1).hits
        if not hits:
            return None
        stamp = searcher.doc(hits[0][1])
        return int(stamp["applied"][0]) if stamp["db"] == [self.db_uuid] else None

    def apply(self, rows: Iterable[Row], changed: Sequence[int], upto: int,
              rebuild: bool = False) -> None:
        """Replace the documents of `changed` seqs by `rows` (their current state; a seq with no
        row was deleted) and stamp `upto`, in one commit. Applying the same entries twice gives
        the same index, so a catch-up that overlaps a previous one is harmless."""
        if rebuild:
            self.writer.delete_all_documents()
        else:
            for start in range(0, len(changed), 10_000):
                chunk = [int(s) for s in changed[start : start + 10_000]]
                self.writer.delete_documents_by_query(Query.term_set_query(self.schema, "seq", chunk))
            self.writer.delete_documents_by_query(Query.term_query(self.schema, "seq", STAMP_SEQ))
        for seq, index_text, entities, kind, *scope, archived in rows:
            doc = tantivy.Document()
            doc.add_unsigned("seq", int(seq))
            doc.add_text("index_text", index_text)
            doc.add_text("entities", entities)
            doc.add_text("kind", kind)
            for name, value in zip(SCOPE_FIELDS, scope, strict=True):
                if value is not None:
                    doc.add_text(name, value)
            doc.add_unsigned("archived", int(archived))
            self.writer.add_document(doc)
        stamp = tantivy.Document()
        stamp.add_unsigned("seq", STAMP_SEQ)
        stamp.add_unsigned("applied", int(upto))
        stamp.add_text("db", self.db_uuid)
        self.writer.add_document(stamp)
        self.writer.commit()
        if rebuild:
            self.writer.garbage_collect_files()  # erased text must not linger in old segments
        self.index.reload()
        self.applied = upto

    def search(self, terms: Sequence[str], column: str, scope: Scope, filters: Filters,
               k: int) -> list[tuple[int, float]]:
        """BM25 top-k over `column` among the memories the scope and filters (`can_filter`)
        admit, or a superset of them: the caller still checks every hit in SQL. Like the FTS5
        path, terms found in more than half of all memories are left out when others remain:
        their IDF is near zero, and they are the longest posting lists."""
        searcher = self.index.searcher()
        tokens = sorted({t for term in terms for t in self.analyzer.analyze(term)})
        rows = max(1, searcher.num_docs - 1)
        rare = [t for t in tokens if 2 * searcher.doc_freq(column, t) <= rows]
        tokens = rare if rare and len(terms) > 1 else tokens
        restrict = self._restriction(scope, filters)
        if not tokens or restrict is None:
            return []
        text = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, column, t))
                                    for t in tokens])
        # the restriction scores nothing: ranks and scores stay BM25's over the text alone
        query = Query.boolean_query([(Occur.Must, text),
                                     (Occur.Must, Query.const_score_query(restrict, 0.0))])
        hits = searcher.search(query, k).hits
        seqs = searcher.fast_field_values("seq", [address for _, address in hits])
        return [(seq, float(score)) for (score, _), seq in zip(hits, seqs, strict=True)
                if isinstance(seq, int)]

    def _restriction(self, scope: Scope, filters: Filters) -> Query | None:
        """The scope and filters as one query; None when they admit nothing."""
        def term(name: str, value: str | int) -> Query:
            return Query.term_query(self.schema, name, value)

        def any_of(name: str, values: Sequence[str]) -> Query:
            return Query.boolean_query([(Occur.Should, term(name, v)) for v in values])

        must = [term("tenant_id", scope.tenant_id)]
        must += [term(name, value) for name, value in (
            ("user_id", scope.user_id), ("agent_id", scope.agent_id),
            ("session_id", scope.session_id), ("visibility", filters.visibility)) if value is not None]
        if filters.kinds:
            must.append(any_of("kind", filters.kinds))
        if not filters.include_archived:
            must.append(term("archived", 0))
        if filters.access is not None and not filters.access.admin:
            readable = self._access(filters.access)
            if readable is None:
                return None
            must.append(readable)
        clauses = [(Occur.Must, q) for q in must]
        clauses += [(Occur.MustNot, term("kind", kind)) for kind in filters.exclude_kinds]
        return Query.boolean_query(clauses)

    def _access(self, rule: AccessRule) -> Query | None:
        """The sharing rule (access/rules.py), widened where the index lacks a column: a tag or
        namespace grant admits all of its owner's shared memories here, and SQL narrows."""
        ways: list[Query] = [Query.term_query(self.schema, "user_id", u) for u in sorted(rule.own_users)]
        for grant in rule.grants:
            must = [Query.term_query(self.schema, "visibility", "shared")]
            if grant.owner is not None:
                must.append(Query.term_query(self.schema, "user_id", grant.owner))
            if grant.resource == "session" and grant.value is not None:
                must.append(Query.term_query(self.schema, "session_id", grant.value))
            ways.append(Query.boolean_query([(Occur.Must, q) for q in must]))
        return Query.boolean_query([(Occur.Should, q) for q in ways]) if ways else None

    def close(self) -> None:
        """Let go of the writer's lock (tantivy releases it when the writer is dropped)."""
        del self.writer


def catch_up(index: TextIndex, conn: sqlite3.Connection, rebuild: bool = False) -> None:
    """Apply the log past the index's stamp; rebuild from the rows when the log no longer
    reaches back that far (trimmed), the stamp is ahead of it (the file was restored from a
    backup and is searched before it is written to: a restored file written to first reuses log
    ids and cannot be told apart, so a restore should delete `<db>.text`) or the caller asks
    (erasure: no erased text may stay in old segments)."""
    last, trimmed = conn.execute(
        "SELECT coalesce(max(id), 0), (SELECT CAST(value AS INTEGER) FROM meta "
        "WHERE key = 'text_log_trimmed') FROM text_log").fetchone()
    last = max(int(last), int(trimmed))  # an empty log: everything up to the trim point applied
    if index.applied == last and not rebuild:
        return
    if rebuild or index.applied is None or index.applied < trimmed or index.applied > last:
        everything = conn.execute(ROW_SQL)
        index.apply(everything, (), last, rebuild=True)
        return
    changed = [int(r[0]) for r in conn.execute(
        "SELECT DISTINCT seq FROM text_log WHERE id > ? AND id <= ?", (index.applied, last))]
    rows: list[Row] = []
    for start in range(0, len(changed), 900):
        chunk = changed[start : start + 900]
        rows += conn.execute(f"{ROW_SQL} WHERE seq IN ({','.join('?' * len(chunk))})",
                             chunk).fetchall()
    index.apply(rows, changed, last)


def trim_log(conn: sqlite3.Connection, upto: int) -> None:
    """Drop log entries up to `upto` (inside the caller's write transaction). An index stamped
    below it can no longer catch up entry by entry and is rebuilt instead."""
    conn.execute("DELETE FROM text_log WHERE id <= ?", (upto,))
    conn.execute("UPDATE meta SET value = max(CAST(value AS INTEGER), ?) WHERE key = 'text_log_trimmed'",
                 (upto,))
