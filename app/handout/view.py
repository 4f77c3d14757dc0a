"""What a printed handout says: a pure function from a stored routine document (the JSON that
`GET /v1/routines/{id}` returns) to the handout's view model, in plain words for the person.

It reads the stored document rather than the current catalogue, so a handout shows exactly the
routine that was generated, even after the catalogue changes. No web, database or rendering here:
`render.py` turns the view into HTML, and the PDF is made from that same HTML.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    "A suggested way to keep track, not part of the sources: tick each exercise when you do it, "
    "once for each session. Write down your pain before and after (0 = no pain, 10 = the worst "
    "you can imagine), how hard it felt, and whether any new pain ran into a leg. These are the "
    "answers the app asks for when you report how it went."
)
LOG_DAYS = 7

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
DESIGN_CHOICE_REASONS = frozenset(
    {"dosage_completed", "sets_raised", "hold_range", "aerobic_scaled", "on_bed", "leg_symptoms"}
)
"""Item reasons that explain how this service set an exercise's dose (not the source's words)."""


@dataclass(frozen=True)
class ExerciseView:
    name: str
    summary: str
    steps: list[str]
    dosage: str
    time: str
    cautions: list[str]
    choices: list[str]
    """How this service set the dose where the source left it open: labelled as our choice."""


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
    urgency: str = ""
    referral_advice: str = ""
    flags: tuple[FlagView, ...] = ()
    explanation: str = ""
    arrangement_note: str = ARRANGEMENT_NOTE


def handout_view(document: dict[str, Any], url: str) -> HandoutView:
    """The handout for one stored routine; `url` is where the QR code leads."""
    referral = document.get("referral")
    is_referral = document.get("outcome") == "refer"
    blocks = [] if is_referral else [block_view(block) for block in document.get("blocks", [])]
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
        first.append(
            "A clinician has checked the warning signs you reported and cleared you to exercise. "
            f"Keep to this advice: {referral['advice']}"
        )
    own = [
        note
        for note in document.get("safety_notes", [])
        if not note.startswith("Stop any exercise") and note != referral.get("advice")
    ]
    return first + own


def block_view(block: dict[str, Any]) -> BlockView:
    return BlockView(
        title=block["title"], exercises=[exercise_view(item) for item in block["items"]]
    )


def exercise_view(item: dict[str, Any]) -> ExerciseView:
    exercise = item["exercise"]
    return ExerciseView(
        name=exercise["name"],
        summary=exercise.get("summary", ""),
        steps=list(exercise.get("steps", [])),
        dosage=dosage_line(item),
        time=about_minutes(int(item.get("estimated_seconds") or 0)),
        cautions=list(exercise.get("cautions", [])),
        choices=[
            choice(reason)
            for reason in item.get("reasons", [])
            if reason.get("code") in DESIGN_CHOICE_REASONS or reason.get("code") == CLINICIAN_REASON
        ],
    )


def choice(reason: dict[str, Any]) -> str:
    """How the sheet says who set a dose or chose an exercise: this service where a source left
    it open ("Our choice:"), or the clinician, with their reason or the rule they went past."""
    if reason.get("code") != CLINICIAN_REASON:
        return f"Our choice: {reason['detail']}"
    if reason.get("rule") in CLINICIAN_OWN_RULES:
        return str(reason["detail"])
    return f"Beyond what this service would give: {reason['detail']}"


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
