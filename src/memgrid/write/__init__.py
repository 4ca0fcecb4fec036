"""Write path: ingest (normalise input) -> extract (units + signals) -> resolve (dedupe) -> store."""
