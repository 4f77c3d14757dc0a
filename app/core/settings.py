"""Settings, read once from the environment (and a .env file when present)."""

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse
from pydantic import AliasChoices, AnyHttpUrl, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "backcare.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="sqlite:///path or postgresql+psycopg://user@host/db",
    )
    seed_dir: Path = Field(
        default=PROJECT_ROOT / "seed",
        description="The content `python -m app seed` loads (a directory in the seed/ format).",
    )
    catalogue_refresh_seconds: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="How often each process checks whether another process changed the catalogue.",
    )
    catalogue_max_age_seconds: float = Field(
        default=3.0,
        gt=0,
        description="/readyz answers 503 when the database last confirmed this process's "
        "catalogue snapshot longer ago than this (a few refresh intervals).",
    )
    database_connect_timeout_seconds: int = Field(
        default=5, ge=2, description="PostgreSQL: give up connecting after this long."
    )
    database_checkout_timeout_seconds: float = Field(
        default=10, gt=0, description="Give up waiting for a free pooled connection after this."
    )
    database_statement_timeout_seconds: float = Field(
        default=15, gt=0, description="PostgreSQL: the server cancels a statement after this."
    )
    database_hold_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="PostgreSQL: a unit of work holding a connection longer than this (say, "
        "waiting on a path that froze) has the connection cut and answers 503.",
    )
    database_ping_timeout_seconds: float = Field(
        default=2,
        gt=0,
        description="PostgreSQL: a pooled connection's liveness ping at checkout, and the "
        "round trip allowed past the statement timeout, must answer within this; a connection "
        "that does not is cut (a frozen path) and replaced.",
    )
    database_import_hold_timeout_seconds: float = Field(
        default=300,
        gt=0,
        description="PostgreSQL: the hold bound an import's one transaction declares in place "
        "of DATABASE_HOLD_TIMEOUT_SECONDS (the largest import the limits allow takes tens of "
        "seconds on a busy database); a frozen path is still cut within the statement and ping "
        "timeouts.",
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=5, gt=0, description="SQLite: wait this long for another writer's lock."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="The largest request body accepted (413 past it); imports and image uploads "
        "have their own larger bounds.",
    )
    request_body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="A request's whole body must arrive within this time of its headers; 408 "
        "past it.",
    )
    cors_public_origins: list[str] = Field(
        default=["*"],
        validation_alias=AliasChoices("cors_public_origins", "cors_read_origins"),
        description="Origins whose browser apps may read, create routines, give feedback and "
        "delete a routine; * for any. CORS_READ_ORIGINS is the old name.",
    )
    cors_admin_origins: list[str] = Field(
        default=[],
        validation_alias=AliasChoices("cors_admin_origins", "cors_write_origins"),
        description="Origins whose browser apps may edit exercises and call /v1/admin; none by "
        "default. CORS_WRITE_ORIGINS is the old name.",
    )
    rate_limit_routines: str = Field(
        default="60/minute",
        description="Routine creations and feedback per client, together, in the `limits` "
        "notation (e.g. 60/minute, 1000 per hour).",
    )
    rate_limit_auth_failures: str = Field(
        default="10/minute",
        description="Failed key authentications per client before every wrong key it presents "
        "is refused with 429 until the window moves on (the right key still gets through).",
    )
    rate_limit_renders: str = Field(
        default="30/minute",
        description="PDF handouts rendered per client (a PDF served from the cache costs "
        "nothing), in the `limits` notation.",
    )
    rate_limit_refusal_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="A routine write, PDF render or image upload refused for want of budget "
        "(429) is answered after this pause (at most the seconds until the budget allows one "
        "again): a client that sends its next request as soon as its 429 arrives then costs the "
        "server a request a second per connection, not thousands. 0 answers at once.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the limits count: memory:// (each process its own) or "
        "redis://host:port (every process naming it shares one budget).",
    )
    server_max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="`python -m app serve`: the most a request line and its headers may take; "
        "431 past it.",
    )
    server_header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="`python -m app serve`: a request's line and headers must arrive within this "
        "time of the connection opening or of the request's first byte; 408 and close past it.",
    )
    server_keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        description="`python -m app serve`: how long an idle kept-alive connection stays open.",
    )
    server_limit_concurrency: int = Field(
        default=512,
        ge=1,
        description="`python -m app serve`: connections and requests in progress per process "
        "past which new requests are answered 503. Keep it under the process's file limit.",
    )
    server_connections_per_address: int = Field(
        default=64,
        ge=1,
        description="`python -m app serve`: open connections one client address may hold; "
        "past it, its idle kept-alive connections are closed to make room, else the new one is "
        "answered 503 and closed. Keep it well below SERVER_LIMIT_CONCURRENCY, so one address "
        "cannot fill the server. Proxies named in FORWARDED_ALLOW_IPS are not capped.",
    )
    handout_render_concurrency: int = Field(
        default=1,
        ge=1,
        description="PDF handouts rendered at once per server process: the size of its pool of "
        "render worker processes (started on the first PDF, each importing WeasyPrint, stopped at "
        "shutdown). Renders never run on the server process's interpreter; each worker takes a "
        "CPU while it renders, so more than the machine's cores only queues.",
    )
    handout_render_queue: int = Field(
        default=4,
        ge=0,
        description="PDF renders that may wait for a free renderer; past them, 503 with "
        "Retry-After.",
    )
    routine_retention_days: int = Field(
        default=365,
        ge=1,
        description="Routines (with the profile and feedback they hold) older than this are "
        "deleted by `python -m app purge-routines` and POST /v1/admin/routines/purge.",
    )
    routine_purge_batch_size: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="A purge deletes routines this many at a time, each batch its own short "
        "transaction, so no statement nears the database's timeouts at any volume and a purge "
        "stopped part-way keeps what it did.",
    )
    media_max_upload_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="The largest image file an editor may upload, in bytes; 413 past it.",
    )
    media_max_pixels: int = Field(
        default=40_000_000,
        ge=10_000,
        le=200_000_000,
        description="The most pixels an uploaded image may declare (width times height), checked "
        "from its header before it is decoded, so a decompression bomb costs nothing; 413 past it.",
    )
    media_max_dimension: int = Field(
        default=2048,
        ge=64,
        le=10_000,
        description="Uploaded images are scaled down to at most this many pixels on their longer "
        "side before they are stored and served.",
    )
    media_thumbnail_size: int = Field(
        default=320,
        ge=16,
        le=2048,
        description="The longer side of each image's thumbnail, in pixels.",
    )
    media_processing_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Uploaded images decoded and re-encoded at once per process; unset, one per "
        "CPU core.",
    )
    media_processing_queue: int = Field(
        default=4,
        ge=0,
        description="Uploads that may wait for a free image worker; past them, 503 with "
        "Retry-After.",
    )
    rate_limit_media_uploads: str = Field(
        default="30/minute",
        description="Image uploads per client, in the `limits` notation.",
    )
    log_level: str = Field(
        default="info",
        description="The app's and the server's log level (debug, info, warning, error).",
    )
    freeze_heap_at_start: bool = Field(
        default=True,
        description="Once started (the catalogue loaded), move every object "
        "alive out of the garbage collector's reach (`gc.freeze`), so its full collections no "
        "longer walk them: under write load they paused the event loop for about 100 ms every "
        "0.6 s. Off only where many apps start and stop in one process (the test suite).",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Addresses (comma-separated IPs or networks, or *) of the reverse proxies "
        "whose X-Forwarded-Proto and X-Forwarded-For headers `serve` trusts, so links keep https "
        "behind a proxy. Unset, no proxy header is trusted.",
    )
    fhir_canonical_base: str = Field(
        default="https://backcare.example/fhir/r4",
        pattern=r"^https?://[^\s?#]+[^/\s?#]$",
        description="The base of the canonical URLs of our FHIR resources "
        "(`{base}/ActivityDefinition/{slug}`, `{base}/CodeSystem/{id}`...). Canonical URLs are "
        "identifiers: keep this stable. Set it to the public URL of /fhir/r4 to make them resolve "
        "by a plain GET as well as by `url` search.",
    )
    admin_session_secret: str | None = Field(
        default=None,
        min_length=32,
        repr=False,
        description="Signs the admin web UI's session cookies and CSRF tokens. Unset, the "
        "deployment's own secret signs them: made once by the migrations and kept in the "
        "database, so every process and replica on one database shares it with nothing to set.",
    )
    cursor_secret: str | None = Field(
        default=None,
        min_length=32,
        repr=False,
        description="Signs paging cursors (`next_cursor`), so a forged cursor, or one reused with "
        "other filters, is refused. Unset, ADMIN_SESSION_SECRET signs them (under its own salt), "
        "or else the deployment's own secret kept in the database. Every process serving one API "
        "must sign alike: set it to the same value everywhere, or leave both unset.",
    )

    @field_validator(
        "rate_limit_routines",
        "rate_limit_auth_failures",
        "rate_limit_renders",
        "rate_limit_media_uploads",
    )
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as error:
            raise ValueError(f"not a rate limit in the limits notation: {error}") from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _limits_storage(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"memory", "redis", "rediss"}:
            raise ValueError("expected memory:// or redis://host:port")
        return value

    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this API, e.g. https://api.example.org: the handout's "
        "QR code opens {PUBLIC_BASE_URL}/v1/routines/{id}/handout. Set, absolute links (the "
        "Link paging header, FHIR fullUrl and bundle links, redirects) are built from it, never "
        "from a request's Host; https here makes the admin session cookie Secure.",
    )
    handout_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Rendered handouts (HTML and PDF) each process keeps, in bytes.",
    )

    @property
    def served_over_https(self) -> bool:
        """Whether people reach the API over https (PUBLIC_BASE_URL says so): then the admin
        session cookie is `Secure` whatever scheme the request arrived by (behind a proxy that
        terminates TLS it arrives as http)."""
        return self.public_base_url.startswith("https://")

    @property
    def public_base_url_set(self) -> bool:
        """Whether PUBLIC_BASE_URL was set: then absolute links are built from it, never from
        the request's Host."""
        return "public_base_url" in self.model_fields_set

    @field_validator("public_base_url")
    @classmethod
    def absolute_http_url(cls, value: str) -> str:
        """An absolute http(s) URL, kept as written but without a trailing slash."""
        AnyHttpUrl(value)
        return value.rstrip("/")


def settings_reference() -> str:
    """Every setting as an operator sets it (its environment variable), its default and what it
    does, in Markdown: docs/settings.md, written by `python -m app settings`."""
    lines = [
        "# Settings",
        "",
        "Every setting is an environment variable (or a line of `.env`), read once at start-up.",
        "Written from `app/core/settings.py` by `python -m app settings`; `scripts/check` fails",
        "when this file and the code disagree.",
        "",
        "| setting | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = "(none)" if field.default is None else str(field.default)
        default = default.replace(str(PROJECT_ROOT), "<project>")
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{name.upper()}` | `{default}` | {description} |")
    return "\n".join(lines) + "\n"


@lru_cache
def get_settings() -> Settings:
    return Settings()
