# syntax=docker/dockerfile:1
# Dependencies come from requirements/app.lock (scripts/lock); the app itself is its source in /srv,
# present once, run as `python -m app` from any directory (PYTHONPATH).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/app.lock /tmp/app.lock
RUN /opt/venv/bin/pip install --require-virtualenv --requirement /tmp/app.lock

FROM python:3.11-slim AS runtime
# WeasyPrint (the handout PDF) needs pango and a font: the Debian packages its documentation lists.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 backcare
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY --chown=backcare:backcare pyproject.toml README.md ./
COPY --chown=backcare:backcare app ./app
COPY --chown=backcare:backcare migrations ./migrations
COPY --chown=backcare:backcare seed ./seed
COPY --chown=backcare:backcare openapi ./openapi
RUN mkdir -p /srv/var && chown backcare:backcare /srv/var
# The SQLite default (DATABASE_URL unset) lives here: mount a volume so it outlives the container.
VOLUME ["/srv/var"]
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/srv PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER backcare
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Safe when several replicas start at once: migrate and seed each run under a per-database lock
# (PostgreSQL advisory lock, SQLite file lock), and seed keeps every editor's change.
CMD ["sh", "-c", "python -m app migrate && python -m app seed && exec python -m app serve --host 0.0.0.0 --port 8000"]
