"""What FastAPI's generated OpenAPI document leaves out: the error answers every /v1 route can
give, and links (which response field feeds which later request: a new memory's id into
GET/PATCH/DELETE, a key's id into its revocation). Clients and generators read both; the
stateful API fuzz follows the links to reach the write, update and delete paths with real ids
and checks every answer against the document."""

from __future__ import annotations

from typing import Any

MEMORY = "/v1/memories/{memory_id}"
# (source path, method, status) -> (pointer to the id in the response body, parameter, targets)
LINKS: dict[tuple[str, str, str], tuple[str, str, list[tuple[str, str]]]] = {
    ("/v1/memories", "post", "201"): ("/0/id", "memory_id", [
        (MEMORY, "get"), (MEMORY, "patch"), (MEMORY, "delete"), (MEMORY + "/history", "get"),
        (MEMORY + "/chain", "get"), (MEMORY + "/related", "get")]),
    ("/v1/memories", "get", "200"): ("/items/0/id", "memory_id", [
        (MEMORY, "get"), (MEMORY, "patch"), (MEMORY + "/history", "get")]),
    ("/v1/memories/search", "post", "200"): ("/0/memory/id", "memory_id", [
        (MEMORY, "get"), (MEMORY + "/related", "get")]),
    ("/v1/keys", "post", "201"): ("/id", "key_id", [("/v1/keys/{key_id}", "delete")]),
    ("/v1/grants", "post", "201"): ("/id", "grant_id", [("/v1/grants/{grant_id}", "delete")]),
}


ERRORS = {"400": "the body is not JSON", "401": "no API key, or one unknown, revoked or expired",
          "403": "the key's principal may not do this", "404": "no such thing the caller may see",
          "413": "request body too large"}
DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
# answers only some routes give
MODEL_ERRORS = {"501": "this server has no model (MEMGRID_LLM_BASE_URL unset)",
                "502": "the model endpoint failed or never gave valid output"}
ROUTE_ERRORS = {("/v1/answer", "post"): MODEL_ERRORS, ("/v1/memories/search", "post"): MODEL_ERRORS}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add error answers and LINKS to a FastAPI OpenAPI document in place; returns it."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = {"type": "object", "required": ["detail"], "title": "ErrorDetail",
                              "properties": {"detail": {"type": "string", "title": "Detail"}}}
    invalid: dict[str, Any] = DETAIL
    if "HTTPValidationError" in schemas:  # a request FastAPI refused, or one memgrid refused
        invalid = {"anyOf": [{"$ref": "#/components/schemas/HTTPValidationError"}, DETAIL]}
    for path, operations in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, description in {**ERRORS, **ROUTE_ERRORS.get((path, method), {})}.items():
                responses.setdefault(status, {"description": description,
                                              "content": {"application/json": {"schema": DETAIL}}})
            responses["422"] = {"description": "invalid input; the detail names the field",
                                "content": {"application/json": {"schema": invalid}}}
    return add_links(schema)


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    paths = schema["paths"]
    for (path, method, status), (pointer, parameter, targets) in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_path, target_method in targets:
            operation_id = paths[target_path][target_method]["operationId"]
            links[operation_id] = {"operationId": operation_id,
                                   "parameters": {parameter: f"$response.body#{pointer}"}}
    return schema
