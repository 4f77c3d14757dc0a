"""What the app holds while it runs, built once at start-up and closed at shutdown: one typed
object instead of loose attributes on `app.state`."""

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from app.content.media_files import image_limits
from app.core.cursors import Cursors
from app.core.rate_limits import RateLimits
from app.core.settings import Settings
from app.core.work_gate import WorkGate
from app.db.catalogue_store import CatalogueStore, CatalogueWriter, one_line
from app.db.connect import connect_or_explain
from app.db.migrations import SchemaGate, head_revision, schema_revision
from app.db.reachability import Reachability
from app.db.routine_store import RoutineStore
from app.db.secret_queries import stored_signing_secret
from app.db.session import Database, DatabaseLimits
from app.domain.fhir.activity import ActivityViews
from app.domain.fhir.common import Canonical
from app.domain.routines.memo import PlanCache
from app.domain.sync import SyncViews
from app.handout.cache import HandoutCache
from app.handout.pdf_process import ProcessPdfRenderer
from app.handout.service import Handouts
from app.handout.view import Photo
from app.services.content import Content
from app.services.illustrations import Illustrations
from app.services.keys import Keys
from app.services.media import ExerciseMedia
from app.services.programs import Programs
from app.services.routines import Routines, utc_now

logger = logging.getLogger("app")

Clock = Callable[[], datetime]


def database_limits(settings: Settings) -> DatabaseLimits:
    return DatabaseLimits(
        connect_seconds=settings.database_connect_timeout_seconds,
        checkout_seconds=settings.database_checkout_timeout_seconds,
        statement_seconds=settings.database_statement_timeout_seconds,
        hold_seconds=settings.database_hold_timeout_seconds,
        ping_seconds=settings.database_ping_timeout_seconds,
        sqlite_busy_seconds=settings.sqlite_busy_timeout_seconds,
    )


@dataclass(frozen=True)
class SigningSecrets:
    """What admin sessions and paging cursors are signed with."""

    admin_sessions: str
    cursors: str

    @classmethod
    def of(cls, settings: Settings, stored: str | None) -> "SigningSecrets":
        """The settings' secrets where set, else the deployment's own (`stored`, made by the
        migrations, shared by every process on the database). Without either (a database not
        yet migrated), one random per process, said in the log."""
        if stored is None and not (settings.admin_session_secret and settings.cursor_secret):
            logger.warning(
                "no signing secret in the database yet (not migrated): admin sessions and "
                "paging cursors are signed with a secret of this process until it restarts"
            )
        deployment = stored or secrets.token_urlsafe(32)
        admin_sessions = settings.admin_session_secret or deployment
        return cls(admin_sessions, settings.cursor_secret or admin_sessions)


@dataclass
class Runtime:
    """The settings, the clock (`utc_now` unless a test moves it: the move-up rule looks back over
    about a week of feedback), the database and the features' state."""

    settings: Settings
    clock: Clock
    engine: Engine
    catalogue_store: CatalogueStore
    catalogue_writer: CatalogueWriter
    database: Database
    content: Content
    keys: Keys
    plan_cache: PlanCache
    routine_store: RoutineStore
    rate_limits: RateLimits
    handouts: Handouts
    fhir_views: ActivityViews
    sync_views: SyncViews
    signing: SigningSecrets
    media: ExerciseMedia
    routines: Routines = field(init=False)
    programs: Programs = field(init=False)
    cursors: Cursors = field(init=False)
    illustrations: Illustrations = field(init=False)

    def __post_init__(self) -> None:
        self.cursors = Cursors(self.signing.cursors)
        self.illustrations = Illustrations()
        self.handouts.pictures = self.handout_picture
        self.handouts.photos = self.handout_photo
        self.handouts.current_images = self.current_images
        self.routines = Routines(
            self.routine_store, self.catalogue_store.current, self.plan_cache, self.now
        )
        self.programs = Programs(self.routines, self.content, self.catalogue_store.current)

    def now(self) -> datetime:
        """The time of a request, in UTC, from the one clock (which tests may replace)."""
        return self.clock()

    @classmethod
    def start(cls, settings: Settings, clock: Clock = utc_now) -> "Runtime":
        """Connect (or stop with one line saying why) and load the catalogue if the schema is
        ready; a database not yet migrated is logged and answered 503 until it is."""
        limits = database_limits(settings)
        engine = connect_or_explain(settings.database_url, limits)
        reachability = Reachability(engine, look_bound_seconds=limits.ping_seconds)
        gate = SchemaGate(engine, head_revision(settings.database_url))
        store = CatalogueStore(engine, gate, reachability)
        try:
            store.refresh()
        except Exception as error:
            logger.warning("catalogue not loaded at start-up: %s", one_line(error))
        if not store.gate.open:
            logger.warning("%s", store.gate.explain())
        database = Database(
            engine,
            store.gate.require,
            reachability.require,
            write_wait_seconds=settings.sqlite_busy_timeout_seconds,
        )
        writer = CatalogueWriter(engine, store)
        return cls(
            settings=settings,
            clock=clock,
            engine=engine,
            catalogue_store=store,
            catalogue_writer=writer,
            content=Content(writer, settings.database_import_hold_timeout_seconds),
            database=database,
            keys=Keys(database),
            plan_cache=PlanCache(),
            routine_store=RoutineStore(
                database,
                settings.routine_retention_days,
                purge_batch_size=settings.routine_purge_batch_size,
            ),
            rate_limits=RateLimits(
                settings.rate_limit_storage,
                routine_writes=settings.rate_limit_routines,
                auth_failures=settings.rate_limit_auth_failures,
                renders=settings.rate_limit_renders,
                media_uploads=settings.rate_limit_media_uploads,
                refusal_delay_seconds=settings.rate_limit_refusal_delay_seconds,
            ),
            handouts=Handouts(
                settings.public_base_url,
                HandoutCache(settings.handout_cache_bytes),
                WorkGate(
                    settings.handout_render_concurrency,
                    settings.handout_render_queue,
                    "rendering PDF handouts",
                ),
                pdf_renderer=ProcessPdfRenderer(settings.handout_render_concurrency),
            ),
            fhir_views=ActivityViews(
                Canonical(settings.fhir_canonical_base, settings.public_base_url)
            ),
            sync_views=SyncViews(),
            media=ExerciseMedia(
                writer,
                image_limits(settings),
                WorkGate(
                    settings.media_processing_concurrency or os.cpu_count() or 1,
                    settings.media_processing_queue,
                    "processing uploaded images",
                ),
            ),
            signing=SigningSecrets.of(
                settings, stored_signing_secret(engine) if store.gate.open else None
            ),
        )

    def handout_picture(self, slug: str, version: int) -> str | None:
        """An exercise version drawn for a handout (blocking: see `Illustrations.last_frame`)."""
        return self.illustrations.last_frame(
            self.catalogue_store.current(), self.content, slug, version
        )

    def current_images(self, slug: str) -> tuple[str, ...]:
        """The content hashes of the images the published exercise lists now."""
        entry = self.catalogue_store.current().get(slug)
        return () if entry is None else entry.media_hashes

    def handout_photo(self, slug: str, version: int) -> Photo | None:
        """An exercise version's first editor image for a handout (blocking: see
        `ExerciseMedia.handout_photo`)."""
        return self.media.handout_photo(self.catalogue_store.current(), self.content, slug, version)

    def schema_revision(self) -> str | None:
        """The database's migration revision (database I/O: call it off the event loop)."""
        return schema_revision(self.engine)

    def close(self) -> None:
        self.catalogue_store.wait_until_idle()
        if isinstance(self.handouts.pdf_renderer, ProcessPdfRenderer):
            self.handouts.pdf_renderer.close()
        self.engine.dispose()
