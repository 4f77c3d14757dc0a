"""`python -m app migrate | seed | export | serve | purge-routines | keys | openapi | settings`."""

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session

from app.content.bundle import (
    ContentInvalidError,
    ContentIssue,
    load_seed_content,
    write_seed_directory,
)
from app.content.images import ImageLimits
from app.content.media_files import SEED_IMAGE_LIMITS, image_limits
from app.content.seeding import Outcome, SeedReport, seed_catalogue
from app.core.security import Role
from app.core.settings import PROJECT_ROOT, Settings, get_settings, settings_reference
from app.core.startup import StartupError
from app.db import migrations
from app.db.catalogue_queries import exercise_documents, load_sources
from app.db.connect import connect_or_explain
from app.db.maintenance import maintenance_lock
from app.db.media_queries import stored_file_bytes
from app.db.session import Database
from app.domain.exercise import Exercise, Media
from app.domain.timestamps import rfc3339
from app.services.keys import KeyNameTakenError, Keys
from app.services.routines import PurgeReport, Routines

OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"
SETTINGS_PATH = PROJECT_ROOT / "docs" / "settings.md"


def migrate(settings: Settings, arguments: argparse.Namespace) -> int:
    connect_or_explain(settings.database_url).dispose()
    if arguments.down:
        migrations.downgrade(settings.database_url, arguments.revision or "base")
    else:
        migrations.upgrade(settings.database_url, arguments.revision or "head")
    print(f"migrated to {arguments.revision or ('base' if arguments.down else 'head')}")
    return 0


def seed_database(
    database_url: str,
    seed_dir: Path,
    overwrite: Sequence[str] = (),
    limits: ImageLimits = SEED_IMAGE_LIMITS,
) -> SeedReport:
    """Validate every seed file (image files as uploads are), then apply it in one transaction
    (or nothing), one seeder at a time: see app/content/seeding.py for what is written and what
    is kept."""
    content = load_seed_content(seed_dir, limits)
    bundle = content.bundle
    unknown = sorted(set(overwrite) - {exercise.slug for exercise in bundle.exercises})
    if unknown:
        raise ContentInvalidError(
            [ContentIssue("--overwrite", slug, "(slug)", "no seed file has it") for slug in unknown]
        )
    engine = connect_or_explain(database_url)
    try:
        with maintenance_lock(database_url), Session(engine) as session, session.begin():
            return seed_catalogue(session, bundle, frozenset(overwrite), content.files)
    finally:
        engine.dispose()


def seed(settings: Settings, arguments: argparse.Namespace) -> int:
    directory = Path(arguments.dir) if arguments.dir else settings.seed_dir
    try:
        report = seed_database(
            settings.database_url, directory, arguments.overwrite, image_limits(settings)
        )
    except ContentInvalidError as error:
        print(f"seed refused, nothing written ({len(error.issues)} problems):", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    counts = report.counts()
    overwritten = f", overwritten {counts['overwritten']}" if counts["overwritten"] else ""
    print(
        f"seeded from {directory}: created {counts['created']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}{overwritten}"
    )
    for outcome, slugs in report.kept.items():
        print(f"kept {len(slugs)}: {outcome.value} ({', '.join(slugs)})")
    if report.kept.get(Outcome.kept_edited):
        print(
            "  the database keeps editors' changes: `python -m app export --to seed/` brings them "
            "into seed/, `seed --overwrite SLUG...` takes the seed file's version instead"
        )
    return 0


def export(settings: Settings, arguments: argparse.Namespace) -> int:
    """Write the live catalogue as a seed directory: what an editor changed goes back to seed/,
    each exercise's images beside it with their licence sidecar."""
    engine = connect_or_explain(settings.database_url)
    try:
        with Session(engine) as session:
            sources = load_sources(session)
            documents = exercise_documents(session)
            exercises: list[Exercise] = []
            for slug, document in documents:
                try:
                    exercises.append(Exercise.model_validate(document))
                except ValidationError:
                    newer = "written by a newer version of the code"
                    print(f"skipped {slug}: {newer}", file=sys.stderr)

            def media_bytes(slug: str, media: Media) -> bytes:
                data = stored_file_bytes(session, slug, media.id)
                if data is None:
                    raise ContentInvalidError(
                        [ContentIssue("database", slug, "media", f"no stored file {media.id}")]
                    )
                return data

            directory = Path(arguments.to)
            write_seed_directory(directory, sources, exercises, media_bytes)
    finally:
        engine.dispose()
    print(f"exported {len(exercises)} exercises and {len(sources)} sources to {directory}")
    return 0 if len(exercises) == len(documents) else 1


def serve(settings: Settings, arguments: argparse.Namespace) -> int:
    import uvicorn

    from app.core.request_ids import log_config
    from app.core.server import uvicorn_options

    connect_or_explain(settings.database_url).dispose()
    uvicorn.run(
        "app.main:app",
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        log_level=settings.log_level,
        log_config=log_config(),
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **uvicorn_options(settings),
    )
    return 0


def openapi(settings: Settings, arguments: argparse.Namespace) -> int:
    from app.main import create_app

    document = json.dumps(create_app(settings).openapi(), indent=2, sort_keys=False) + "\n"
    return write_or_check(Path(arguments.output), document, "the app", "openapi", arguments.check)


def settings_document(_settings: Settings, arguments: argparse.Namespace) -> int:
    """Write (or with --check, compare) docs/settings.md, the operators' list of settings."""
    document = settings_reference()
    return write_or_check(
        Path(arguments.output), document, "the settings", "settings", arguments.check
    )


def write_or_check(output: Path, document: str, made_from: str, command: str, check: bool) -> int:
    """A generated file written, or with `check` compared with what the code makes now."""
    if check:
        if not output.exists() or output.read_text() != document:
            print(
                f"{output} differs from {made_from}: run `python -m app {command}`", file=sys.stderr
            )
            return 1
        print(f"{output} matches {made_from}")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document)
    print(f"wrote {output}")
    return 0


def purge_routines(settings: Settings, _arguments: argparse.Namespace) -> int:
    """Delete routines past retention, as the admin endpoint does: in batches of
    ROUTINE_PURGE_BATCH_SIZE, each its own transaction, with a line of progress after each;
    idempotent and resumable (stopped part-way, the next run carries on), safe on any replica."""
    engine = connect_or_explain(settings.database_url)
    routines = Routines.for_maintenance(
        Database(engine), settings.routine_retention_days, settings.routine_purge_batch_size
    )

    def progress(report: PurgeReport) -> None:
        print(
            f"... {report.purged} routines purged, {report.tombstones_removed} tombstones "
            "removed so far",
            flush=True,
        )

    try:
        report = asyncio.run(routines.purge_expired(progress))
    finally:
        engine.dispose()
    print(
        f"purged {report.purged} routines created before "
        f"{rfc3339(report.cutoff)} "
        f"({settings.routine_retention_days} days); removed {report.tombstones_removed} "
        "tombstones"
    )
    return 0


def keys(settings: Settings, arguments: argparse.Namespace) -> int:
    engine = connect_or_explain(settings.database_url)
    try:
        return KEY_ACTIONS[arguments.action](Keys(Database(engine)), arguments)
    finally:
        engine.dispose()


def create_key_command(keys: Keys, arguments: argparse.Namespace) -> int:
    try:
        key = asyncio.run(keys.create(arguments.name, Role(arguments.role)))
    except KeyNameTakenError:
        print(f"a key named {arguments.name!r} already exists", file=sys.stderr)
        return 1
    print(f"created {arguments.role} key {arguments.name!r}; it is shown once, keep it safe:")
    print(key)
    return 0


def list_keys_command(keys: Keys, _arguments: argparse.Namespace) -> int:
    print(f"{'name':<24} {'role':<8} {'created':<27} revoked")
    for key in asyncio.run(keys.list()):
        revoked = rfc3339(key.revoked_at) if key.revoked_at else "-"
        print(f"{key.name:<24} {key.role.value:<8} {rfc3339(key.created_at)} {revoked}")
    return 0


def revoke_key_command(keys: Keys, arguments: argparse.Namespace) -> int:
    if not asyncio.run(keys.revoke(arguments.name)):
        print(f"no active key named {arguments.name!r}", file=sys.stderr)
        return 1
    print(f"revoked {arguments.name!r}")
    return 0


KEY_ACTIONS: dict[str, Callable[[Keys, argparse.Namespace], int]] = {
    "create": create_key_command,
    "list": list_keys_command,
    "revoke": revoke_key_command,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("migrate", help="apply database migrations (DATABASE_URL)")
    command.add_argument("--revision", help="target revision (default: head, or base with --down)")
    command.add_argument("--down", action="store_true", help="downgrade instead of upgrade")
    command.set_defaults(handler=migrate)

    command = commands.add_parser(
        "seed", help="load seed/ into the database idempotently, all or nothing"
    )
    command.add_argument("--dir", help="seed directory (default: ./seed)")
    command.add_argument(
        "--overwrite",
        nargs="+",
        default=[],
        metavar="SLUG",
        help="take these seed files' versions even over editors' changes (audited)",
    )
    command.set_defaults(handler=seed)

    command = commands.add_parser(
        "export", help="write the catalogue as a seed directory (one YAML file per exercise)"
    )
    command.add_argument("--to", required=True, help="directory to write, e.g. seed/")
    command.set_defaults(handler=export)

    command = commands.add_parser("serve", help="serve the API with uvicorn")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument("--workers", type=int, default=1)
    command.set_defaults(handler=serve)

    command = commands.add_parser(
        "purge-routines",
        help="delete routines older than ROUTINE_RETENTION_DAYS (default 365); safe from cron",
    )
    command.set_defaults(handler=purge_routines)

    command = commands.add_parser("keys", help="create, list and revoke API keys for writes")
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key; it is printed once, last")
    create.add_argument("--name", required=True, help="who or what holds it (shown in the audit)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    actions.add_parser("list", help="list keys (names and roles, never the keys)")
    revoke = actions.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    command.set_defaults(handler=keys)

    command = commands.add_parser("openapi", help="write the OpenAPI contract to openapi/")
    command.add_argument("--output", default=str(OPENAPI_PATH))
    command.add_argument("--check", action="store_true", help="fail if the file differs")
    command.set_defaults(handler=openapi)

    command = commands.add_parser("settings", help="write the list of settings to docs/")
    command.add_argument("--output", default=str(SETTINGS_PATH))
    command.add_argument("--check", action="store_true", help="fail if the file differs")
    command.set_defaults(handler=settings_document)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    handler: Callable[[Settings, argparse.Namespace], int] = arguments.handler
    try:
        return handler(get_settings(), arguments)
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
