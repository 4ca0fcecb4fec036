"""The shared memory server: REST (FastAPI), MCP, and the Python client."""
