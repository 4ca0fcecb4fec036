"""Read path: query -> channels -> fuse -> rerank -> assemble, with no LLM call."""
