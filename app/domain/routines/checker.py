"""The rule checker: what a program breaks, for this person, by the engine's own rules.

Generation chooses with the same functions the checker evaluates with: who may do an exercise
(`eligibility.exclusion_reasons`), the routine-wide limits (`limits.broken_limit`), the most a
cited dosage allows (`prescription.dose_limits`), how long a session takes (`timing`), the red
flags, and the cues an item carries (`engine.final_reasons`). So a generated routine passes its
own checker (tests/domain/test_program_checker_properties.py shows it), and a program a
clinician builds is held to what the engine holds itself to. Each finding names its rule in
GET /v1/routine-rules, with the severity the registry gives it (`CHECK_SEVERITIES`).

Pure and deterministic: the same catalogue, profile and program give the same findings, in the
same order (block, then warn, then info; in the program's order within each).
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.routines.eligibility import exclusion_reasons
from app.domain.routines.engine import cleared, final_reasons
from app.domain.routines.limits import LIMIT_DETAILS, broken_limit, variant_families
from app.domain.routines.model import BlockName
from app.domain.routines.ordering import block_for
from app.domain.routines.prescription import Prescription, choose_dosage, dose_limits
from app.domain.routines.profile import Phase, Profile
from app.domain.routines.program import (
    MAXIMUM_PROGRAM_ITEMS,
    Dose,
    Finding,
    Program,
    item_pointer,
)
from app.domain.routines.red_flags import RED_FLAGS, RedFlag
from app.domain.routines.rules import CHECK_SEVERITIES, RuleId, Severity, red_flag_rule
from app.domain.routines.selection import INDICATED_MOTIONS, ordered_seconds
from app.domain.routines.session import session_minutes
from app.domain.routines.timing import whole_minutes
from app.domain.vocabulary import Category, SpinalMotion

Path = tuple[str | int, ...]

CUE_RULES: frozenset[RuleId] = frozenset(
    {RuleId.on_bed, RuleId.standing_support, RuleId.leg_symptoms_gentle_pull}
)
"""Item reasons that are notes about how to do an exercise: info findings in a check."""

SEVERITY_ORDER: dict[Severity, int] = {severity: rank for rank, severity in enumerate(Severity)}
FLAGS_BY_ID: dict[str, RedFlag] = {flag.id.value: flag for flag in RED_FLAGS}
DIRECTIONS: dict[SpinalMotion, str] = {
    SpinalMotion.extension: "bending backwards",
    SpinalMotion.flexion: "gentle forward bending",
}


class ProgramInvalidError(ValueError):
    """A program that cannot be checked: each error is where in the request (its path from the
    body's root) and what is wrong there. The API answers it as a 422 naming each."""

    def __init__(self, errors: Sequence[tuple[Path, str]]) -> None:
        super().__init__("; ".join(message for _path, message in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class PlacedItem:
    """One program item, resolved against the catalogue."""

    block: int
    index: int
    entry: CatalogueEntry
    prescription: Prescription

    @property
    def pointer(self) -> str:
        return item_pointer(self.block, self.index)


@dataclass(frozen=True)
class ProgramCheck:
    items: list[PlacedItem]
    findings: list[Finding]

    @property
    def blocking(self) -> bool:
        return any(finding.severity is Severity.block for finding in self.findings)


EarlierExercises = Mapping[tuple[str, int], CatalogueEntry]
"""Exercises the person already has in the routine a program starts from, by slug and version:
a retired exercise, or another version than the published one, may be kept from there."""


def check_program(
    catalogue: Catalogue,
    profile: Profile,
    program: Program,
    earlier: EarlierExercises | None = None,
) -> ProgramCheck:
    """Every finding for `program` done by the person of `profile`; raises ProgramInvalidError for
    a program that names no exercise it may, or gives a dose the exercise cannot take."""
    items = place_items(catalogue, profile, program, earlier or {})
    findings = [
        *red_flag_findings(profile),
        *(finding for item in items for finding in item_findings(item, profile)),
        *limit_findings(items, profile, catalogue),
        *session_findings(items, profile),
    ]
    findings.sort(key=lambda finding: SEVERITY_ORDER[finding.severity])
    return ProgramCheck(items, findings)


def finding(rule: RuleId, pointer: str, text: str) -> Finding:
    return Finding(rule=rule, severity=CHECK_SEVERITIES[rule], pointer=pointer, text=text)


def place_items(
    catalogue: Catalogue, profile: Profile, program: Program, earlier: EarlierExercises
) -> list[PlacedItem]:
    errors: list[tuple[Path, str]] = []
    placed: list[PlacedItem] = []
    retired = catalogue.tombstones.keys()
    count = 0
    for block_index, block in enumerate(program.blocks):
        for index, item in enumerate(block.items):
            path: Path = ("program", "blocks", block_index, "items", index)
            count += 1
            if count > MAXIMUM_PROGRAM_ITEMS:
                errors.append((path, f"A program holds at most {MAXIMUM_PROGRAM_ITEMS} items."))
                continue
            entry = resolve(catalogue, item.exercise, retired, earlier, path, errors)
            if entry is None:
                continue
            prescription = prescribed(entry, item.dose, profile, path, errors)
            if prescription is not None:
                placed.append(PlacedItem(block_index, index, entry, prescription))
    if errors:
        raise ProgramInvalidError(errors)
    return placed


def resolve(
    catalogue: Catalogue,
    reference: str,
    retired: Collection[str],
    earlier: EarlierExercises,
    path: Path,
    errors: list[tuple[Path, str]],
) -> CatalogueEntry | None:
    """The exercise a reference (`slug` or `slug@version`) names, if the program may use it."""
    slug, _, version_text = reference.partition("@")
    entry = catalogue.get(slug)
    where = (*path, "exercise")
    if version_text:
        version = int(version_text)
        if entry is not None and entry.version == version:
            return entry
        kept = earlier.get((slug, version))
        if kept is not None:
            return kept
        current = f"version {entry.version} is published" if entry else "it is not published"
        errors.append(
            (
                where,
                f"{reference!r}: {current}, and the person has no routine with version "
                f"{version} of it.",
            )
        )
        return None
    if entry is not None:
        return entry
    if slug in retired:
        errors.append(
            (
                where,
                f"{slug!r} is retired: it may be kept, as '{slug}@VERSION', only when the person "
                "already has it in the routine the program starts from.",
            )
        )
    else:
        errors.append((where, f"No published exercise has the slug {slug!r}."))
    return None


def prescribed(
    entry: CatalogueEntry,
    dose: Dose,
    profile: Profile,
    path: Path,
    errors: list[tuple[Path, str]],
) -> Prescription | None:
    """The item as the engine's own prescription, so the engine's timing and limits apply."""
    exercise = entry.exercise
    aerobic = exercise.category is Category.aerobic
    if aerobic and dose.minutes is None:
        errors.append(((*path, "dose", "minutes"), "An aerobic activity needs minutes."))
        return None
    if not aerobic and dose.minutes is not None:
        errors.append(
            (
                (*path, "dose", "minutes"),
                "Minutes are for aerobic activities; give sets and repetitions.",
            )
        )
        return None
    return Prescription(
        entry,
        choose_dosage(exercise),
        BlockName.aerobic if aerobic else block_for(exercise),
        sets=1 if aerobic else dose.sets,
        reps=None if aerobic else dose.repetitions or 1,
        hold_seconds=None if aerobic else dose.hold_seconds,
        duration_minutes=dose.minutes,
        sets_may_rise=profile.phase is not Phase.acute,
        side=dose.per_side,
        rest=dose.rest_seconds,
    )


def red_flag_findings(profile: Profile) -> list[Finding]:
    """A red flag the engine would refer for blocks the program, and no override stores it; a
    "see someone soon" flag a clinician has cleared is a note."""
    findings: list[Finding] = []
    for index, flag_id in enumerate(profile.red_flags):
        flag = FLAGS_BY_ID[flag_id.value]
        pointer = f"/profile/red_flags/{index}"
        if cleared(flag, profile):
            findings.append(finding(RuleId.cleared_by_clinician, pointer, flag.advice))
        else:
            rule = red_flag_rule(flag_id.value)
            findings.append(
                Finding(
                    rule=rule,
                    severity=CHECK_SEVERITIES[rule],
                    pointer=pointer,
                    text=flag.advice,
                    overridable=False,
                )
            )
    return findings


def item_findings(item: PlacedItem, profile: Profile) -> list[Finding]:
    """Who may do it (the engine's eligibility rules), its dose against what the sources cite,
    and the cues the engine gives it."""
    pointer = item.pointer
    findings = [
        finding(reason.rule, pointer, reason.detail)
        for reason in exclusion_reasons(item.entry, profile)
    ]
    findings += dose_findings(item, profile)
    findings += [
        finding(reason.rule, pointer, reason.detail)
        for reason in final_reasons(item.prescription, profile)
        if reason.rule in CUE_RULES
    ]
    return findings


def dose_findings(item: PlacedItem, profile: Profile) -> list[Finding]:
    prescription = item.prescription
    limits = dose_limits(item.entry.exercise, profile.phase)
    dose = item.pointer + "/dose"
    if prescription.duration_minutes is not None:
        if prescription.duration_minutes <= limits.minutes:
            return []
        return [
            finding(
                RuleId.dose_above_cited,
                dose + "/minutes",
                f"{prescription.duration_minutes} minutes is more than the {limits.minutes} "
                "the sources cite for it.",
            )
        ]
    findings: list[Finding] = []
    if prescription.sets > limits.sets.most:
        findings.append(
            finding(
                limits.sets.rule,
                dose + "/sets",
                f"{prescription.sets} sets is more than the {limits.sets.most} this exercise "
                "is given here.",
            )
        )
    reps = prescription.reps or 1
    if reps > limits.repetitions:
        findings.append(
            finding(
                RuleId.dose_above_cited,
                dose + "/repetitions",
                f"{reps} repetitions is more than the {limits.repetitions} the sources cite.",
            )
        )
    hold = prescription.hold_seconds or 0
    if hold > limits.hold_seconds:
        cited = (
            f"the {limits.hold_seconds} seconds the sources cite"
            if limits.hold_seconds
            else "the sources, which give no hold for it"
        )
        findings.append(
            finding(
                RuleId.dose_above_cited,
                dose + "/hold_seconds",
                f"A {hold}-second hold is longer than {cited}.",
            )
        )
    return findings


def limit_findings(
    items: Sequence[PlacedItem], profile: Profile, catalogue: Catalogue
) -> list[Finding]:
    """The routine-wide limits, in the program's order: each item that breaks one (the third
    variant, the third nerve stretch, the second trip to the floor) is named."""
    families = variant_families([*catalogue.entries, *(item.entry for item in items)])
    findings: list[Finding] = []
    done: list[Prescription] = []
    for item in items:
        candidate = item.prescription
        if candidate.is_aerobic and any(earlier.is_aerobic for earlier in done):
            findings.append(
                finding(
                    RuleId.one_aerobic_activity,
                    item.pointer,
                    "A routine holds one aerobic activity, and this is a second.",
                )
            )
        limit = broken_limit(done, candidate, profile, families, [*done, candidate])
        if limit is not None:
            findings.append(finding(limit, item.pointer, LIMIT_DETAILS[limit]))
        done.append(candidate)
    return findings


def session_findings(items: Sequence[PlacedItem], profile: Profile) -> list[Finding]:
    """The session's length against the time the person has (and the phase allows), and the
    direction indicated for their back when the program leaves it out."""
    findings: list[Finding] = []
    seconds = ordered_seconds([item.prescription for item in items])
    minutes, allowed = whole_minutes(seconds), session_minutes(profile)
    if seconds > profile.minutes * 60:
        findings.append(
            finding(
                RuleId.time,
                "/program",
                f"It takes about {minutes} minutes, more than the {profile.minutes} minutes "
                "the person has for a session.",
            )
        )
    elif seconds > allowed * 60:
        findings.append(
            finding(
                RuleId.acute_session_length,
                "/program",
                f"It takes about {minutes} minutes; in the acute phase a session is kept to "
                f"{allowed} minutes, done three times a day.",
            )
        )
    motion = INDICATED_MOTIONS.get(profile.sensitivity)
    if motion is not None and not any(
        item.entry.exercise.spinal_motion is motion for item in items
    ):
        findings.append(
            finding(
                RuleId.indicated_left_out,
                "/program",
                f"The direction indicated for this back, {DIRECTIONS[motion]}, is not in the "
                "program.",
            )
        )
    return findings
