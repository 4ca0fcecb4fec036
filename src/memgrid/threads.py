"""One implementation, two calling conventions: async methods that run the sync ones in a worker
thread (used by AsyncMemory and AsyncClient, so they can never drift from Memory and Client)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def in_thread(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """`method` of the sync class, as a coroutine method of a class whose `.sync` is an instance."""

    async def run(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run
