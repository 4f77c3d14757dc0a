"""What a printed handout says: a pure function from a stored routine document (the JSON that
`GET /v1/routines/{id}` returns) to the handout's view model, in plain words for the person.

It reads the stored document rather than the current catalogue, so a handout shows exactly the
routine that was generated, even after the catalogue changes. No web, database or rendering here:
`render.py` turns the view into HTML, and the PDF is made from that same HTML.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.routines.feedback import Feedback
from app.domain.routines.rules import ROUTINE_RULES, RULES_BY_ID, RuleId, RuleKind

STOP_RULE = (
    "Stop any exercise that makes your pain worse or brings on new pain, and contact your doctor."
)
NOT_MEDICAL_ADVICE = (
    "This sheet gives general exercise information. It is not medical advice and does not "
    "replace a check by a healthcare provider."
)
ARRANGEMENT_NOTE = (
    "The order of the exercises and the names of the parts (warm-up, stretches, strength, "
    "cool-down) are how this service arranges a routine: a design choice, not advice from the "
    "sources."
)
CLINICIAN_ARRANGEMENT_NOTE = (
    "Your clinician chose these exercises, their order and their doses. This service checked "
    "them against the same rules as the routines it makes; what goes beyond those rules is "
    "marked under each exercise."
)
CLINICIAN_REASON = "clinician_chosen"
"""Item reasons of a program a clinician built: their reason for an override, a warning kept."""
CLINICIAN_OWN_RULES = frozenset({"clinician-chosen", "clinician-override"})
LOG_NOTE = (
    "A suggested way to keep track, not part of the sources: one box for each session, ticked "
    "when you do the exercise. Write down your pain before and after (0 = no pain, 10 = the "
    "worst you can imagine) and answer the questions below it (yes or no): the app asks the "
    "same when you report how it went."
)
LOG_DAYS = 7
LOG_QUESTIONS: dict[str, str] = {
    "pain_before": "Pain before (0-10)",
    "pain_after": "Pain after (0-10)",
    "completed": "Did all of it?",
    "difficulty": "How hard: easy, right or hard?",
    "new_leg_symptoms": "New pain, numbness, tingling or weakness in a leg?",
    "leg_symptoms_worse": "Leg symptoms you had worse, or spread further down?",
    "symptoms": "If so, which: pain, numbness, tingling, weakness?",
    "saddle_numbness": "Numbness around genitals, buttocks or inner thighs?",
}
"""The log's question for each field of the feedback the app sends: a new field without a
question here fails the handout (see `log_questions`)."""
DO_NOT_WAIT = (
    "New or worse weakness in a leg, or numbness around the genitals, buttocks or inner thighs: "
    "stop and seek medical care immediately (an emergency department or your local emergency "
    "number).",
    "New symptoms in a leg, or leg symptoms that get worse or spread: stop the routine and "
    "contact your doctor.",
)
"""Printed under the log: what to act on at once rather than note down (the feedback rules
leg-weakness, saddle-numbness, new-leg-symptoms and leg-symptoms-worse)."""
CLEARED = (
    "A clinician has checked the warning signs you reported and cleared you to exercise: keep "
    "your follow-up appointment, and see them sooner if anything gets worse."
)
UNKNOWN_RULE_KIND = RuleKind.safety_cue
"""A reason naming a rule this code does not know (a newer routine) prints, as a safety cue:
nothing that may keep a person safe is left off paper."""

SENSITIVITY_WORDS = {
    "flexion_sensitive": "a back that dislikes bending forward",
    "extension_sensitive": "a back that dislikes bending backwards",
    "none": "a back that is not bothered more by bending one way than the other",
    "unknown": "a back that should not bend far forward or far backwards until you know which "
    "way bothers it",
}
POSITION_WORDS = {
    "supine": "lying on your back",
    "prone": "lying on your stomach",
    "hands_and_knees": "on hands and knees",
    "half_kneeling": "kneeling on one knee",
    "seated": "sitting",
    "standing": "standing",
    "in_water": "in water",
    "long_sitting": "sitting with your legs out straight",
}
PHASE_WORDS = {
    "acute": "while your back is painful",
    "recovering": "while your back is getting better",
    "maintenance": "to help keep the pain from coming back",
}
URGENCY_WORDS = {
    "emergency": "Now: get medical help straight away.",
    "same_day": "Today: see a doctor today.",
    "soon": "Soon: make an appointment with a doctor in the next few days.",
}


@dataclass(frozen=True)
class Photo:
    """An editor's image of an exercise as the sheet prints it: its thumbnail inline, its alt
    text, and the credit its licence asks for."""

    data_uri: str
    alt: str
    credit: str


def photo_credit(author: str, license_id: str, source_url: str) -> str:
    """Who made the image, under which licence, and where it came from (CC BY's attribution)."""
    return f"Image: {author}, {license_id}, {source_url}"


@dataclass(frozen=True)
class ExerciseView:
    name: str
    summary: str
    steps: list[str]
    dosage: str
    time: str
    cautions: list[str]
    """The exercise's own cautions, less those it shares with other exercises of the routine
    (printed once, above the exercises)."""
    cues: list[str]
    """Reasons of kind safety cue (on a bed, hold on to a counter, a gentle pull only):
    printed as instructions."""
    choices: list[str]
    """Reasons of kind design choice (how this service set the dose where the source left it
    open): labelled as our choice."""
    picture: str = ""
    """The exercise drawn (its last key frame, the one before it faint, an arrow between): SVG
    markup made by this service, or empty when there is none."""
    photo: Photo | None = None
    """An editor's image of the exercise, printed instead of the drawing, with its credit."""


@dataclass(frozen=True)
class BlockView:
    title: str
    exercises: list[ExerciseView]


@dataclass(frozen=True)
class FlagView:
    question: str
    advice: str


@dataclass(frozen=True)
class HandoutView:
    routine_id: str
    is_referral: bool
    title: str
    date: str
    purpose: str
    safety: list[str]
    blocks: list[BlockView]
    total_time: str
    how_often: list[str]
    sources: list[str]
    log_rows: list[str]
    log_days: list[str]
    url: str
    shared_cautions: tuple[str, ...] = ()
    """Cautions several exercises carry, each once with the exercises it is for (`Heel
    raises and Wall squat: ...`): printed above the exercises."""
    log_questions: tuple[str, ...] = ()
    log_sessions: int = 1
    """Tick boxes a day: how many times a day the routine is done."""
    do_not_wait: tuple[str, ...] = ()
    urgency: str = ""
    referral_advice: str = ""
    flags: tuple[FlagView, ...] = ()
    explanation: str = ""
    arrangement_note: str = ARRANGEMENT_NOTE


Pictures = Callable[[str, int], str | None]
"""The picture of an exercise version, by slug and version: SVG markup, or None."""
Photos = Callable[[str, int], Photo | None]
"""An editor's first image of an exercise version, by slug and version, or None."""


def handout_view(
    document: dict[str, Any],
    url: str,
    pictures: Pictures | None = None,
    photos: Photos | None = None,
) -> HandoutView:
    """The handout for one stored routine; `url` is where the QR code leads; `pictures` draws
    each exercise as the routine gave it (its version), and `photos` gives an editor's image
    of it, printed instead of the drawing."""
    referral = document.get("referral")
    is_referral = document.get("outcome") == "refer"
    shared = () if is_referral else shared_cautions(document)
    blocks = (
        []
        if is_referral
        else [block_view(block, shared, pictures, photos) for block in document.get("blocks", [])]
    )
    blocks = [block for block in blocks if block.exercises]
    return HandoutView(
        routine_id=document["id"],
        is_referral=is_referral,
        title="See a healthcare provider" if is_referral else "Your back exercise routine",
        date=long_date(document["created_at"]),
        purpose="" if is_referral else purpose(document),
        safety=safety_lines(document, is_referral),
        blocks=blocks,
        total_time=about_minutes(int(document.get("estimated_seconds") or 0)),
        how_often=[] if is_referral else how_often(document),
        sources=[citation["title"] for citation in document.get("citations", [])],
        log_rows=[exercise.name for block in blocks for exercise in block.exercises],
        log_days=[f"Day {day}" for day in range(1, LOG_DAYS + 1)],
        url=url,
        urgency=URGENCY_WORDS.get(referral["urgency"], "") if is_referral and referral else "",
        referral_advice=referral["advice"] if is_referral and referral else "",
        flags=tuple(
            FlagView(question=flag["question"], advice=flag["advice"])
            for flag in (referral or {}).get("red_flags", [])
        ),
        explanation=document.get("explanation") or "",
        arrangement_note=(
            CLINICIAN_ARRANGEMENT_NOTE
            if document.get("origin") == "clinician"
            else ARRANGEMENT_NOTE
        ),
        shared_cautions=shared,
        log_questions=() if is_referral else log_questions(),
        log_sessions=sessions_a_day(document),
        do_not_wait=() if is_referral else DO_NOT_WAIT,
    )


def log_questions() -> tuple[str, ...]:
    """One question for every field the feedback endpoint takes, in its order."""
    return tuple(LOG_QUESTIONS[name] for name in Feedback.model_fields)


def sessions_a_day(document: dict[str, Any]) -> int:
    frequency = document.get("frequency") or {}
    return max(1, int(frequency.get("times_per_day") or 1))


def shared_cautions(document: dict[str, Any]) -> tuple[str, ...]:
    """Cautions two or more exercises of the routine carry in the same words (the stop rule in
    each one's words): printed once, above the exercises, naming the exercises they are for."""
    items = [item for block in document.get("blocks", []) for item in block.get("items", [])]
    carriers: dict[str, list[str]] = {}
    for item in items:
        for caution in dict.fromkeys(item["exercise"].get("cautions", [])):
            carriers.setdefault(caution, []).append(item["exercise"]["name"])
    return tuple(
        f"{'Every exercise' if len(names) == len(items) else words_list(names, 'and')}: {caution}"
        for caution, names in carriers.items()
        if len(names) >= 2
    )


def long_date(timestamp: str) -> str:
    """`2026-11-29T13:28:38.933400Z` -> `29 November 2026` (the day the routine was made, UTC)."""
    moment = datetime.fromisoformat(timestamp)
    return f"{moment.day} {moment:%B %Y}"


def purpose(document: dict[str, Any]) -> str:
    """The profile in one sentence: whose back, in which positions, for how long."""
    profile = document.get("profile", {})
    sensitivity = profile.get("sensitivity", "unknown")
    whose = SENSITIVITY_WORDS.get(sensitivity, SENSITIVITY_WORDS["unknown"])
    if profile.get("leg_symptoms"):
        whose += ", with pain that runs into a leg"
    positions = list(
        dict.fromkeys(
            POSITION_WORDS.get(position, position.replace("_", " "))
            for block in document.get("blocks", [])
            for item in block.get("items", [])
            if (position := item["exercise"].get("position"))
        )
    )
    parts = [f"For {whose}"]
    if positions:
        parts.append(f"done {words_list(positions, 'or')}")
    parts.append(about_minutes(int(document.get("estimated_seconds") or 0)))
    phase = PHASE_WORDS.get(profile.get("phase", ""))
    sentence = ", ".join(parts)
    return f"{sentence}, {phase}." if phase else f"{sentence}."


def safety_lines(document: dict[str, Any], is_referral: bool) -> list[str]:
    """The stop rule and the not-medical-advice line first, then, for a routine a clinician
    cleared despite a "see someone soon" warning sign, that advice, then the routine's notes."""
    referral = document.get("referral") or {}
    first = [NOT_MEDICAL_ADVICE] if is_referral else [STOP_RULE, NOT_MEDICAL_ADVICE]
    if referral and not is_referral:
        first.append(CLEARED)
    own = [
        note
        for note in document.get("safety_notes", [])
        if not note.startswith("Stop any exercise") and note != referral.get("advice")
    ]
    return first + own


def block_view(
    block: dict[str, Any],
    shared: tuple[str, ...] = (),
    pictures: Pictures | None = None,
    photos: Photos | None = None,
) -> BlockView:
    return BlockView(
        title=block["title"],
        exercises=[exercise_view(item, shared, pictures, photos) for item in block["items"]],
    )


def exercise_view(
    item: dict[str, Any],
    shared: tuple[str, ...] = (),
    pictures: Pictures | None = None,
    photos: Photos | None = None,
) -> ExerciseView:
    exercise = item["exercise"]
    reasons = item.get("reasons", [])
    slug, version = exercise.get("slug"), exercise.get("version")
    known = isinstance(slug, str) and isinstance(version, int)
    photo = photos(slug, version) if photos and known else None
    picture = pictures(slug, version) if pictures and known and photo is None else None
    return ExerciseView(
        photo=photo,
        picture=picture or "",
        name=exercise["name"],
        summary=exercise.get("summary", ""),
        steps=list(exercise.get("steps", [])),
        dosage=dosage_line(item),
        time=about_minutes(int(item.get("estimated_seconds") or 0)),
        cautions=[c for c in exercise.get("cautions", []) if not shared_caution(c, shared)],
        cues=[
            r["detail"]
            for r in reasons
            if r.get("code") != CLINICIAN_REASON and reason_kind(r) is RuleKind.safety_cue
        ],
        choices=[
            clinician_line(r) if r.get("code") == CLINICIAN_REASON else f"Our choice: {r['detail']}"
            for r in reasons
            if r.get("code") == CLINICIAN_REASON or reason_kind(r) is RuleKind.design_choice
        ],
    )


def clinician_line(reason: dict[str, Any]) -> str:
    """How the sheet says what a clinician chose: their reason, or the rule they went past."""
    if reason.get("rule") in CLINICIAN_OWN_RULES:
        return str(reason["detail"])
    return f"Beyond what this service would give: {reason['detail']}"


KIND_PRIORITY = (RuleKind.information, RuleKind.design_choice, RuleKind.safety_cue)


def kinds_by_code() -> dict[str, RuleKind]:
    """A reason's kind from its code alone, for a reason that names no rule: the most cautious
    kind among the rules shown under that code."""
    ranked = sorted(ROUTINE_RULES, key=lambda rule: KIND_PRIORITY.index(rule.kind))
    return {rule.code: rule.kind for rule in ranked if rule.code is not None}


KINDS_BY_CODE = kinds_by_code()


def shared_caution(caution: str, shared: tuple[str, ...]) -> bool:
    return any(line.endswith(f": {caution}") for line in shared)


def reason_kind(reason: dict[str, Any]) -> RuleKind:
    """The kind of the rule an item reason names, which decides how it prints."""
    rule = reason.get("rule")
    if rule is None:
        return KINDS_BY_CODE.get(reason.get("code") or "", UNKNOWN_RULE_KIND)
    try:
        return RULES_BY_ID[RuleId(rule)].kind
    except ValueError:
        return UNKNOWN_RULE_KIND


def dosage_line(item: dict[str, Any]) -> str:
    """`3 sets of 10, hold 5 seconds, each side, rest 30 seconds`; `keep going for 22 minutes`."""
    if item.get("duration_minutes"):
        return f"Keep going for {plural(item['duration_minutes'], 'minute')}"
    sets = int(item.get("sets") or 1)
    reps = item.get("reps")
    parts = [f"{plural(sets, 'set')} of {reps}" if reps else plural(sets, "set")]
    if item.get("hold_seconds"):
        parts.append(f"hold {plural(item['hold_seconds'], 'second')}")
    if item.get("per_side"):
        parts.append("each side")
    if sets > 1 and item.get("rest_seconds"):
        parts.append(f"rest {plural(item['rest_seconds'], 'second')} between sets")
    return ", ".join(parts)


def how_often(document: dict[str, Any]) -> list[str]:
    frequency = document.get("frequency") or {}
    lines = []
    if frequency.get("routine"):
        lines.append(f"This routine: {frequency['routine']}")
    has_aerobic = any(block.get("name") == "aerobic" for block in document.get("blocks", []))
    if frequency.get("aerobic") and has_aerobic:
        lines.append(f"Aerobic exercise: {frequency['aerobic']}")
    return lines


def about_minutes(seconds: int) -> str:
    return f"about {plural(max(1, math.ceil(seconds / 60)), 'minute')}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def words_list(words: list[str], conjunction: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
