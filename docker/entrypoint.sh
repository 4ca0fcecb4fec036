#!/bin/sh
# Creates the first tenant on the first start (its admin key is printed once, in the log), then
# runs the server. MEMGRID_DB: a postgresql:// URL or a SQLite path; MEMGRID_TENANT: its name.
set -eu
: "${MEMGRID_DB:?set MEMGRID_DB to a postgresql:// URL (or a SQLite file path)}"
memgrid admin create-tenant "${MEMGRID_TENANT:-default}" --db "$MEMGRID_DB" --if-missing
exec memgrid serve --db "$MEMGRID_DB" --host 0.0.0.0 --port "${MEMGRID_PORT:-8420}" "$@"
