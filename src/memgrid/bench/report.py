"""What every benchmark reports the same way: timing summaries and the JSON file."""

from __future__ import annotations

import json
import resource
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memgrid.bench.metrics import percentile_ms


def speed_summary(ingest_s: float, turns: int, latencies: Sequence[float]) -> dict[str, Any]:
    return {
        "ingest_s": round(ingest_s, 2), "ingest_turns": turns,
        "ingest_turns_per_s": round(turns / ingest_s, 1) if ingest_s else 0.0,
        "search_ms_p50": round(percentile_ms(latencies, 50), 2),
        "search_ms_p95": round(percentile_ms(latencies, 95), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def write_json(path: Path | None, data: Any) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
