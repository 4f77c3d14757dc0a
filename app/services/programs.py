"""Programs a clinician builds: check one against the person's profile by the engine's own
rules (nothing stored), and store a checked one as a routine.

The checker is the domain's (`app/domain/routines/checker.py`); this service turns what it
cannot check into a 422 naming each field, and a refused program into a 422 with its findings.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from app.core.errors import ApiError, FieldError, InvalidParametersError, json_pointer
from app.core.security import generate_delete_token, hash_key
from app.domain.catalogue import Catalogue
from app.domain.routines import Profile
from app.domain.routines.checker import (
    EarlierExercises,
    Path,
    ProgramCheck,
    ProgramInvalidError,
    check_program,
)
from app.domain.routines.program import Finding, Override, Program
from app.domain.routines.program_plan import program_document, unoverridden
from app.domain.timestamps import rfc3339
from app.services.routines import CreatedRoutine, Routines

__all__ = ["Programs"]


def invalid_program(errors: Sequence[tuple[Path, str]]) -> InvalidParametersError:
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


class Programs:
    def __init__(self, routines: Routines, catalogue: Callable[[], Catalogue]) -> None:
        self._routines = routines
        self._catalogue = catalogue

    def check(
        self, profile: Profile, program: Program, earlier: EarlierExercises | None = None
    ) -> ProgramCheck:
        """Every finding for the program, on the current catalogue: 422 for one it cannot
        check (an unknown or retired exercise, a dose the exercise cannot take, too many
        items)."""
        try:
            return check_program(self._catalogue(), profile, program, earlier)
        except ProgramInvalidError as error:
            raise invalid_program(error.errors) from None

    async def store(
        self, profile: Profile, program: Program, overrides: Sequence[Override]
    ) -> CreatedRoutine:
        """Check the program and store it as a routine (`origin: "clinician"`) with its
        findings: 422 with the findings while a block finding has no override with a reason
        (an emergency red flag always), 422 for an override that answers no finding."""
        catalogue = self._catalogue()
        check = self.check(profile, program)
        mismatch = unmatched_overrides(check.findings, overrides)
        if mismatch is not None:
            raise mismatch
        unanswered = unoverridden(check.findings, overrides)
        if unanswered:
            raise refused(check.findings, unanswered)
        document: dict[str, Any] = program_document(
            catalogue,
            profile,
            program,
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
