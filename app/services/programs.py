"""Programs a clinician builds: check one against the person's profile by the engine's own
rules (nothing stored), and store a checked one as a routine.

The checker is the domain's (`app/domain/routines/checker.py`); this service turns what it
cannot check into a 422 naming each field, and a refused program into a 422 with its findings.
"""

from collections.abc import Callable, Sequence

from app.core.errors import FieldError, InvalidParametersError, json_pointer
from app.domain.catalogue import Catalogue
from app.domain.routines import Profile
from app.domain.routines.checker import (
    EarlierExercises,
    Path,
    ProgramCheck,
    ProgramInvalidError,
    check_program,
)
from app.domain.routines.program import Program

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


class Programs:
    def __init__(self, catalogue: Callable[[], Catalogue]) -> None:
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
