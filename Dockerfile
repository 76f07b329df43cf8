# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are built in a throw-away stage; the runtime image holds
# only the virtualenv and the app, and runs as an unprivileged user.
FROM python:3.11.10-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

FROM python:3.11.10-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/switchboard.db \
    FLOWS_DIR=/srv/switchboard/ivr_flows
RUN groupadd --system switchboard && useradd --system --gid switchboard --home /srv/switchboard switchboard \
    && mkdir -p /data /srv/switchboard && chown switchboard:switchboard /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/switchboard
COPY --chown=switchboard:switchboard alembic.ini ./
COPY --chown=switchboard:switchboard migrations ./migrations
COPY --chown=switchboard:switchboard ivr_flows ./ivr_flows
COPY --chown=switchboard:switchboard app ./app
USER switchboard
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
