"""FTS5 for the SQLite store: the MATCH expression (with common terms left out), the two BM25
queries (over all rows, or joined with the caller's scope) and the newest mentions of a name."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from memgrid.storage.base import TextHit

# column weights: index_text 1.0, entities 0.5, kind 0 (kind is only there to filter on)
_BM25 = "bm25(memories_fts, 1.0, 0.5, 0.0)"


def _any_of(words: Sequence[str]) -> str:
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class FTS5:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._counts: dict[str, int] = {}  # FTS match -> rows, valid while rows are unchanged
        self._counts_at: tuple[int | None, int] | None = None

    def ranked(self, terms: Sequence[str], column: str | None, kinds: Sequence[str],
               k: int) -> list[TextHit]:
        """Top k over all rows (the caller checks the scope after)."""
        rows = self.conn.execute(
            f"SELECT rowid, {_BM25} AS s FROM memories_fts WHERE memories_fts MATCH ? ORDER BY s LIMIT ?",
            (self.match(terms, column, kinds), k)).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def ranked_in_scope(self, terms: Sequence[str], column: str | None, kinds: Sequence[str],
                        where: str, params: Sequence[Any], k: int) -> list[TextHit]:
        """Top k among the rows `where` admits (exact; scores every matching row of the scope)."""
        sql = (f"SELECT memories_fts.rowid, {_BM25} AS s FROM memories_fts "
               f"JOIN memories m ON m.seq = memories_fts.rowid "
               f"WHERE memories_fts MATCH ? AND {where} ORDER BY s LIMIT ?")
        rows = self.conn.execute(sql, [self.match(terms, column, kinds), *params, k]).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def newest_naming(self, name: str, where: str, params: Sequence[Any],
                      k: int) -> list[tuple[int, str]]:
        """(seq, entities JSON) of the k newest rows `where` admits that name `name`: FTS5 walks
        the name's postings newest first and stops at the limit."""
        sql = (f"SELECT m.seq, m.entities FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid "
               f"WHERE memories_fts MATCH ? AND {where} ORDER BY memories_fts.rowid DESC LIMIT ?")
        return self.conn.execute(sql, [f"entities : {_any_of([name])}", *params, k]).fetchall()

    def match(self, terms: Sequence[str], column: str | None, kinds: Sequence[str]) -> str:
        terms = self.informative(terms, column)
        match = f"{column} : ({_any_of(terms)})" if column else _any_of(terms)
        return f"kind : ({_any_of(kinds)}) AND ({match})" if kinds else match

    def informative(self, terms: Sequence[str], column: str | None) -> list[str]:
        """Drop terms found in more than half of all rows. FTS5's BM25 gives them an IDF of
        ~0 (they cannot change the ranking), yet scoring their long posting lists is most of a
        query's cost (a speaker's name in a two-person chat). Max(seq) bounds the row count
        from above, so a term is dropped only when it is common for certain. Counts are cached
        until the rows change (max(seq) and the vector change counter, which any text change
        moves because new text is re-embedded)."""
        if len(terms) < 2:
            return list(terms)
        state = self.conn.execute(
            "SELECT (SELECT max(seq) FROM memories), (SELECT n FROM vector_changes)").fetchone()
        if state != self._counts_at:
            self._counts.clear()
            self._counts_at = state
        rows = state[0] or 0
        prefix = f"{column} : " if column else ""
        keep = []
        for term in terms:
            query = prefix + _any_of([term])
            count = self._counts.get(query)
            if count is None:
                if len(self._counts) >= 100_000:
                    self._counts.clear()
                count = self.conn.execute(
                    "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", (query,)).fetchone()[0]
                self._counts[query] = count
            if 2 * count <= rows:
                keep.append(term)
        return keep or list(terms)
