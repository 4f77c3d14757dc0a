"""Programs a clinician builds: check one against the person's profile by the engine's own
rules (nothing stored), and store a checked one as a routine.

The checker is the domain's (`app/domain/routines/checker.py`); this service turns what it
cannot check into a 422 naming each field, and a refused program into a 422 with its findings.
"""

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from app.core.errors import (
    ApiError,
    ConflictError,
    FieldError,
    InvalidParametersError,
    json_pointer,
)
from app.core.security import generate_delete_token, hash_key
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.routines import Outcome, Profile
from app.domain.routines.checker import (
    EarlierExercises,
    Path,
    ProgramCheck,
    ProgramInvalidError,
    check_program,
)
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import DEFAULT_SEED
from app.domain.routines.program import (
    Finding,
    FromRoutine,
    Override,
    Program,
    edited,
    program_of,
    program_of_document,
)
from app.domain.routines.program_plan import program_document, unoverridden
from app.domain.timestamps import rfc3339
from app.services.content import Content
from app.services.routines import CreatedRoutine, Routines, existing

__all__ = ["Programs"]


def invalid_program(errors: Sequence[tuple[Path, str]]) -> InvalidParametersError:
    """Each error as the field it names, with a JSON Pointer from the body's root."""
    fields = [
        FieldError(
            location="body",
            field=".".join(str(part) for part in path),
            pointer=json_pointer(path),
            message=message,
        )
        for path, message in errors
    ]
    names = ", ".join(dict.fromkeys(error.field for error in fields))
    noun = "item is" if len(fields) == 1 else "items are"
    return InvalidParametersError(f"{len(fields)} program {noun} invalid: {names}", fields)


class ProgramRefusedError(ApiError):
    status = 422
    slug = "program-refused"
    title = "Program refused"
    description = (
        "The program has `block` findings (a contraindication, a position the person cannot "
        "get into) that no override gives a reason for, or an emergency red flag, which no "
        "override can. `findings` lists every finding, as POST /v1/routine-checks does; "
        "`errors` names each unanswered one. Send an override with a reason for each, or change "
        "the program."
    )


def refused(findings: Sequence[Finding], unanswered: Sequence[Finding]) -> ProgramRefusedError:
    errors = [
        FieldError(
            location="body",
            field=finding.pointer.strip("/").replace("/", "."),
            pointer="#" + finding.pointer,
            message=f"{finding.rule.value}: {finding.text}"
            + ("" if finding.overridable else " (no override can answer this)"),
        )
        for finding in unanswered
    ]
    error = ProgramRefusedError(
        f"{len(unanswered)} blocking finding{'s' if len(unanswered) != 1 else ''} without an "
        "override with a reason.",
        errors,
    )
    error.extensions = {"findings": [finding.model_dump(mode="json") for finding in findings]}
    return error


def unmatched_overrides(
    findings: Sequence[Finding], overrides: Sequence[Override]
) -> InvalidParametersError | None:
    """An override must answer a block finding of this program, by its rule and pointer."""
    blocks = {(f.rule, f.pointer) for f in findings if f.severity.value == "block"}
    errors = [
        FieldError(
            location="body",
            field=f"overrides.{index}",
            pointer=json_pointer(["overrides", index]),
            message=f"No block finding of the program has rule {override.rule.value!r} at "
            f"{override.pointer!r}.",
        )
        for index, override in enumerate(overrides)
        if (override.rule, override.pointer) not in blocks
    ]
    if not errors:
        return None
    return InvalidParametersError(
        f"{len(errors)} override{'s' if len(errors) != 1 else ''} answer no finding.", errors
    )


@dataclass(frozen=True)
class CheckedProgram:
    """What a request asked to check: the person, the program (after any edits) and its check."""

    profile: Profile
    program: Program
    check: ProgramCheck


class Programs:
    def __init__(
        self, routines: Routines, content: Content, catalogue: Callable[[], Catalogue]
    ) -> None:
        self._routines = routines
        self._content = content
        self._catalogue = catalogue

    async def check(
        self,
        profile: Profile | None,
        program: Program | None,
        from_routine: FromRoutine | None = None,
    ) -> CheckedProgram:
        """Every finding for the program, on the current catalogue; or for a stored routine's
        program after the edits `from_routine` gives (the routine's profile when none is
        given). 422 for a program it cannot check (an unknown or retired exercise, a dose the
        exercise cannot take, too many items, an edit naming an exercise the routine lacks);
        404 or 410 for an unknown or deleted routine, 409 for a referral."""
        catalogue = self._catalogue()
        earlier: EarlierExercises = {}
        if from_routine is not None:
            routine = await existing(
                from_routine.id, self._routines.store.document(from_routine.id)
            )
            if routine["outcome"] == Outcome.refer:
                raise ConflictError(
                    "That routine is a referral: it has no exercises to start from."
                )
            base = program_of_document(routine)
            program, errors = edited(base, from_routine.edits)
            if errors:
                raise invalid_program(errors)
            profile = profile or Profile.model_validate(routine["profile"])
            earlier = await self.kept_versions(catalogue, base)
        assert profile is not None
        assert program is not None
        try:
            check = check_program(catalogue, profile, program, earlier)
        except ProgramInvalidError as error:
            raise invalid_program(error.errors) from None
        return CheckedProgram(profile, program, check)

    async def kept_versions(self, catalogue: Catalogue, program: Program) -> EarlierExercises:
        """The exercises of a routine a program starts from that the catalogue no longer
        publishes at that version (retired, or edited since), as they were then: the person
        already has them, so the program may keep them (as `slug@version`)."""
        kept: dict[tuple[str, int], CatalogueEntry] = {}
        for block in program.blocks:
            for item in block.items:
                slug, _, version_text = item.exercise.partition("@")
                current = catalogue.get(slug)
                if not version_text or (current and current.version == int(version_text)):
                    continue
                found = await asyncio.to_thread(self._content.versions, slug, int(version_text))
                if found:
                    kept[(slug, int(version_text))] = found[0].entry
        return kept

    async def store(
        self,
        profile: Profile | None,
        program: Program | None,
        from_routine: FromRoutine | None,
        overrides: Sequence[Override],
    ) -> CreatedRoutine:
        """Check the program and store it as a routine (`origin: "clinician"`) with its
        findings: 422 with the findings while a block finding has no override with a reason
        (an emergency red flag always), 422 for an override that answers no finding."""
        catalogue = self._catalogue()
        checked = await self.check(profile, program, from_routine)
        check = checked.check
        mismatch = unmatched_overrides(check.findings, overrides)
        if mismatch is not None:
            raise mismatch
        unanswered = unoverridden(check.findings, overrides)
        if unanswered:
            raise refused(check.findings, unanswered)
        document: dict[str, Any] = program_document(
            catalogue,
            checked.profile,
            checked.program,
            check,
            overrides,
            routine_id=str(uuid.uuid4()),
            created_at=rfc3339(self._routines.now()),
        )
        body = orjson.dumps(document)
        token = generate_delete_token()
        store = self._routines.store
        await store.create(store.prepare(catalogue, document, body, hash_key(token)))
        return CreatedRoutine(document["id"], body, token)

    def generated(self, profile: Profile) -> Program:
        """The program of the routine the engine makes for the profile (its standard one, or
        the seed's), to start a program from; nothing is stored. 409 for a referral."""
        plan = generate_routine(
            self._catalogue(), profile, DEFAULT_SEED if profile.seed is None else profile.seed
        )
        if plan.outcome is Outcome.refer or not plan.items:
            raise ConflictError(
                "The engine gives no exercises for this profile"
                + (" (a red flag: refer the person)." if plan.outcome is Outcome.refer else ".")
            )
        return program_of(plan.model_dump(mode="json")["blocks"])
