"""Entry point: the core verbs plus the demo and benchmark commands."""

from __future__ import annotations

from memgrid.cli import bench_commands, demo, llm, serve
from memgrid.cli.app import app

__all__ = ["bench_commands", "demo", "llm", "serve"]


def main() -> None:
    app()
