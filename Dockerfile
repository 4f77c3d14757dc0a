# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 backcare
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY --chown=backcare:backcare pyproject.toml ./
COPY --chown=backcare:backcare app ./app
COPY --chown=backcare:backcare migrations ./migrations
COPY --chown=backcare:backcare seed ./seed
RUN mkdir -p /srv/var && chown backcare:backcare /srv/var
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER backcare
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "python -m app migrate && python -m app seed && exec python -m app serve --host 0.0.0.0 --port 8000"]
