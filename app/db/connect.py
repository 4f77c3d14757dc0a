"""Connecting at start-up: an engine whose database answered, or one clear line saying why not
(a `StartupError`), instead of a traceback."""

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from app.core.startup import StartupError
from app.db.session import DatabaseLimits, build_engine


def describe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"


def connect_or_explain(url: str, limits: DatabaseLimits | None = None) -> Engine:
    """An engine whose database answered, or a StartupError naming the problem."""
    try:
        engine = build_engine(url, limits)
    except (ArgumentError, NoSuchModuleError, ValueError, ImportError) as error:
        reason = _first_line(error)
        if isinstance(error, ValueError) and "int()" in reason:
            reason = f"its port is not a number ({reason})"
        raise StartupError(
            f"DATABASE_URL is not usable ({describe_url(url)}): {reason}. "
            "Use sqlite:///path/to/file.db or postgresql+psycopg://user@host:port/database."
        ) from None
    except OSError as error:
        raise StartupError(
            f"the SQLite file's directory cannot be created ({describe_url(url)}): "
            f"{error.strerror or _first_line(error)}: {error.filename}"
        ) from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        engine.dispose()
        cause = getattr(error, "orig", None) or error
        raise StartupError(
            f"database unreachable at {describe_url(url)}: {_first_line(cause)}"
        ) from None
    return engine


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
