# syntax=docker/dockerfile:1
# Two stages. build: the pinned dependencies in a layer of their own (reused until
# pyproject.toml changes), then the app installed into the same virtualenv. runtime: that
# virtualenv (the only copy of the code), the migrations and the default flows, all owned by
# root and read-only to the service, which runs as the unprivileged `switchboard` user and
# may write only /data (the SQLite database, when DATABASE_URL is not PostgreSQL).
FROM python:3.11.10-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip==24.3.1
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/venv/bin/pip install -r requirements.txt
COPY README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11.10-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/switchboard.db \
    CALLBACK_SPOOL_DIR=/data/callback-spool \
    FLOWS_DIR=/srv/switchboard/ivr_flows
RUN groupadd --system switchboard \
    && useradd --system --gid switchboard --no-create-home --home-dir /nonexistent switchboard \
    && mkdir -p /data && chown switchboard:switchboard /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/switchboard
COPY alembic.ini ./
COPY migrations ./migrations
COPY ivr_flows ./ivr_flows
USER switchboard
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
