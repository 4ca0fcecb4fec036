"""What every route needs: the caller behind the bearer key, and bounded identifiers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import StringConstraints

from memgrid.access.models import Principal
from memgrid.server.service import MemoryService

# identifiers and names: printable, bounded (NUL and control characters never reach storage)
Ident = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
PathIdent = Annotated[str, PathParam(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]


bearer_scheme = HTTPBearer(auto_error=False, description="an API key: mg_...")


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                    Depends(bearer_scheme)] = None) -> Principal:
    """The principal behind the bearer key, checked on every request (revocation is immediate)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("send 'Authorization: Bearer <api key>'")
    service: MemoryService = request.app.state.service
    principal = service.access.authenticate(credentials.credentials.strip())
    if principal is None:
        raise unauthorized("API key unknown, revoked or expired")
    return principal


Caller = Annotated[Principal, Depends(caller)]


def unauthorized(message: str) -> Exception:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})
