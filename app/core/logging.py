"""Logging for the app's own loggers (`app.*`); uvicorn keeps its own configuration."""

import logging

from app.core.request_ids import IN_LOG, RequestIdInLog

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s" + IN_LOG


def configure_logging(level: str) -> None:
    """Send `app.*` records to stderr at `level`, once per process. Keys are never logged: only
    their hashes reach the database layer."""
    logger = logging.getLogger("app")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestIdInLog())
        logger.addHandler(handler)
        logger.propagate = False
