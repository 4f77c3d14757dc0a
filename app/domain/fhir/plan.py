"""PlanDefinition: one per stored routine, mapped from the routine document as it was stored.

Each block is an action group, in order; each exercise an action whose `definitionCanonical`
names the ActivityDefinition at the version the routine's snapshot holds (`url|version`). A
`refer` routine has no exercise actions: its one action is the referral advice. A routine a
clinician has cleared despite a "see someone soon" red flag keeps that advice as its first action.
"""

from dataclasses import dataclass
from typing import Any

from app.domain.fhir.activity import structured_doses
from app.domain.fhir.common import (
    PUBLISHER,
    UCUM,
    Canonical,
    compact,
    markdown_list,
    with_narrative,
)
from app.domain.fhir.terminology import coding, concept
from app.domain.routines.advice import AEROBIC_TIMES_PER_WEEK, AEROBIC_TIMES_PER_WEEK_MAX, STOP_RULE
from app.domain.routines.model import BlockName

RESOURCE_TYPE = "PlanDefinition"
PLAN_TYPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
            "code": "clinical-protocol",
            "display": "Clinical Protocol",
        }
    ]
}
REFERRAL_PRIORITY = {"emergency": "stat", "same_day": "asap", "soon": "urgent"}
"""FHIR request priorities (routine | urgent | asap | stat) for our referral urgencies."""


STOP_RULE_EXPRESSION = (
    "item.where(linkId='pain_after').answer.value > "
    "item.where(linkId='pain_before').answer.value"
    " or item.where(linkId='new_leg_symptoms').answer.value = true"
)
"""The stop rule over a session-feedback QuestionnaireResponse (`Questionnaire/session-feedback`):
pain after the session above pain before it, or new symptoms in a leg."""


def stop_condition() -> dict[str, Any]:
    """The stop rule as a computable condition, its words as the description."""
    return {
        "kind": "stop",
        "expression": {
            "description": STOP_RULE,
            "name": "stopRule",
            "language": "text/fhirpath",
            "expression": STOP_RULE_EXPRESSION,
        },
    }


def timing(frequency_text: str | None, repeat: dict[str, Any]) -> dict[str, Any]:
    """The frequency as the routine states it (text) and, where the stored routine has the
    numbers (`times_per_day`, `aerobic_times_per_week`), as a structured repeat."""
    return {"code": {"text": frequency_text} if frequency_text else None, "repeat": repeat}


def block_repeat(routine: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    frequency = routine.get("frequency") or {}
    if block["name"] == BlockName.aerobic:
        times = frequency.get("aerobic_times_per_week")
        if not times:
            return {}
        upper = AEROBIC_TIMES_PER_WEEK_MAX if times == AEROBIC_TIMES_PER_WEEK else None
        return {"frequency": times, "frequencyMax": upper, "period": 1, "periodUnit": "wk"}
    times = frequency.get("times_per_day")
    return {"frequency": times, "period": 1, "periodUnit": "d"} if times else {}


def aerobic_timing_text(minutes: int, repeat: dict[str, Any]) -> str | None:
    """What the structured aerobic timing says, in words: this routine's minutes, and how many
    times a week."""
    if not repeat:
        return f"Keep going for {minutes} minutes."
    times = repeat["frequency"]
    upper = repeat.get("frequencyMax")
    count = f"{times} to {upper}" if upper else f"{times}"
    return f"Keep going for {minutes} minutes, {count} times a week."


def item_duration(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("duration_minutes"):
        return {"duration": item["duration_minutes"], "durationUnit": "min"}
    return {"duration": item["estimated_seconds"], "durationUnit": "s"}


def prescription_text(item: dict[str, Any]) -> str:
    if item.get("duration_minutes"):
        return f"Keep going for {item['duration_minutes']} minutes."
    parts = [f"{item['sets']} set{'s' if item['sets'] != 1 else ''}"]
    if item.get("reps"):
        parts.append(f"{item['reps']} repetitions" + (" on each side" if item["per_side"] else ""))
    if item.get("hold_seconds"):
        parts.append(f"hold {item['hold_seconds']} s")
    if item["sets"] > 1 and item.get("rest_seconds"):
        parts.append(f"rest {item['rest_seconds']} s between sets")
    return ", ".join(parts) + "."


def is_tailored(item: dict[str, Any]) -> bool:
    """Whether the routine's dose differs from the cited dosage the ActivityDefinition carries,
    so ordering that definition would give another dose: other sets (a dosage without sets
    means one), other repetitions (without repetitions, one), a hold outside the cited one or
    its range, another side rule or another duration."""
    cited = item["exercise"]["dosage"]
    low, high = cited.get("hold_seconds"), cited.get("hold_seconds_max")
    hold = item.get("hold_seconds")
    hold_as_cited = hold == low if low is None or not high else low <= (hold or 0) <= high
    return not (
        item["sets"] == (cited.get("sets") or 1)
        and (item.get("reps") or 1) == (cited.get("reps") or 1)
        and item["per_side"] == cited["per_side"]
        and hold_as_cited
        and item.get("duration_minutes") == cited.get("duration_minutes")
    )


def tailored_definition(
    canonical: Canonical, item: dict[str, Any], contained_id: str, item_timing: dict[str, Any]
) -> dict[str, Any]:
    """The exercise at this routine's dose: a contained ActivityDefinition derived from the
    published version, whose `dosage` is what the person does (the text kept beside it)."""
    exercise = item["exercise"]
    rest = item.get("rest_seconds") if item["sets"] > 1 else None
    hold = (item.get("hold_seconds"), None)
    doses = structured_doses(
        canonical, item["sets"], item.get("reps"), item["per_side"], hold, rest
    )
    return {
        "resourceType": "ActivityDefinition",
        "id": contained_id,
        "title": exercise["name"],
        "status": "active",
        "description": f"{exercise['name']} at this routine's dose.",
        "relatedArtifact": [
            {"type": "derived-from", "resource": published_canonical(canonical, exercise)}
        ],
        "kind": "ServiceRequest",
        "timingTiming": item_timing,
        "dosage": [{"text": prescription_text(item), "timing": item_timing, "doseAndRate": doses}],
    }


def published_canonical(canonical: Canonical, exercise: dict[str, Any]) -> str:
    return f"{canonical.url('ActivityDefinition', exercise['slug'])}|{exercise['version']}"


@dataclass
class ActionContext:
    """What the actions of one block share: the plan's canonical base, the block's timing, and
    the contained definitions the plan collects."""

    canonical: Canonical
    frequency_text: str | None
    repeat: dict[str, Any]
    aerobic: bool
    contained: list[dict[str, Any]]


def exercise_action(context: ActionContext, item: dict[str, Any], action_id: str) -> dict[str, Any]:
    canonical = context.canonical
    exercise = item["exercise"]
    text = context.frequency_text
    if context.aerobic and item.get("duration_minutes"):
        text = aerobic_timing_text(item["duration_minutes"], context.repeat)
    item_timing = compact(timing(text, {**context.repeat, **item_duration(item)}))
    definition = published_canonical(canonical, exercise)
    if is_tailored(item):
        contained_id = f"dose-{action_id}"
        context.contained.append(tailored_definition(canonical, item, contained_id, item_timing))
        definition = f"#{contained_id}"
    return {
        "id": action_id,
        "title": exercise["name"],
        "description": exercise["summary"],
        "textEquivalent": prescription_text(item),
        "reason": [
            {
                "coding": [coding(canonical, "selection-reason", reason["code"])],
                "text": reason["detail"],
            }
            for reason in item["reasons"]
        ],
        "documentation": [
            {"type": "derived-from", "resource": published_canonical(canonical, exercise)}
        ],
        "condition": [stop_condition()],
        "timingTiming": item_timing,
        "definitionCanonical": definition,
    }


def block_frequency(routine: dict[str, Any], block: dict[str, Any]) -> str | None:
    frequency = routine.get("frequency") or {}
    if block["name"] == BlockName.aerobic and frequency.get("aerobic"):
        return str(frequency["aerobic"])
    return frequency.get("routine")


def action_id(block: dict[str, Any]) -> str:
    """A FHIR id (letters, digits, - and .) for a block's action group."""
    return str(block["name"]).replace("_", "-")


def block_action(
    context: ActionContext, routine: dict[str, Any], block: dict[str, Any], previous: str | None
) -> dict[str, Any]:
    group_id = action_id(block)
    return {
        "id": group_id,
        "title": block["title"],
        "description": block_frequency(routine, block) if context.aerobic else None,
        "code": [concept(context.canonical, "routine-block", block["name"])],
        "relatedAction": (
            [{"actionId": previous, "relationship": "after-end"}] if previous else None
        ),
        "timingDuration": block_duration(block),
        "groupingBehavior": "visual-group",
        "selectionBehavior": "all",
        "requiredBehavior": "must",
        "action": [
            exercise_action(context, item, f"{group_id}-{index}")
            for index, item in enumerate(block["items"], 1)
        ],
    }


def block_duration(block: dict[str, Any]) -> dict[str, Any]:
    """How long the block takes in one session: its exercises' own times added up (the
    session's length is the sum over the blocks, with the moves between them)."""
    seconds = sum(item["estimated_seconds"] for item in block["items"])
    return {"value": seconds, "unit": "s", "system": UCUM, "code": "s"}


def block_context(
    canonical: Canonical,
    routine: dict[str, Any],
    block: dict[str, Any],
    contained: list[dict[str, Any]],
) -> ActionContext:
    return ActionContext(
        canonical=canonical,
        frequency_text=block_frequency(routine, block),
        repeat=block_repeat(routine, block),
        aerobic=block["name"] == BlockName.aerobic,
        contained=contained,
    )


def referral_action(canonical: Canonical, referral: dict[str, Any]) -> dict[str, Any]:
    """The referral advice. With outcome `refer` it is the whole plan and must be followed; beside
    a routine a clinician has cleared, it stays as advice to keep to."""
    cleared = bool(referral.get("cleared_by_clinician"))
    return {
        "id": "referral",
        "title": (
            "Follow-up advice: a clinician has cleared you to exercise"
            if cleared
            else "Seek medical care before exercising"
        ),
        "description": referral["advice"],
        "priority": REFERRAL_PRIORITY[referral["urgency"]],
        "code": [concept(canonical, "referral-urgency", referral["urgency"])],
        "reason": [
            {"coding": [coding(canonical, "red-flag", flag["id"])], "text": flag["question"]}
            for flag in referral["red_flags"]
        ],
        "requiredBehavior": None if cleared else "must",
    }


def plan_definition(canonical: Canonical, routine: dict[str, Any]) -> dict[str, Any]:
    routine_id = routine["id"]
    actions = [referral_action(canonical, routine["referral"])] if routine.get("referral") else []
    contained: list[dict[str, Any]] = []
    if routine["outcome"] != "refer":
        previous = None
        for block in routine["blocks"]:
            context = block_context(canonical, routine, block, contained)
            actions.append(block_action(context, routine, block, previous))
            previous = action_id(block)
    minutes = routine.get("estimated_minutes")
    description = routine.get("explanation") or (
        f"A back-care exercise routine of about {minutes} minutes." if minutes else None
    )
    resource = {
        "resourceType": RESOURCE_TYPE,
        "id": routine_id,
        "meta": {"versionId": "1", "lastUpdated": routine["created_at"]},
        "contained": contained,
        "url": canonical.url(RESOURCE_TYPE, routine_id),
        "version": "1",
        "name": "BackCareRoutine",
        "title": "Back-care referral" if routine["outcome"] == "refer" else "Back-care routine",
        "type": PLAN_TYPE,
        "status": "active",
        "experimental": False,
        "date": routine["created_at"],
        "publisher": PUBLISHER,
        "description": description,
        "usage": markdown_list(list(routine.get("safety_notes") or [])),
        "relatedArtifact": [
            {"type": "citation", "label": citation["source"], "display": citation["title"]}
            for citation in routine.get("citations") or []
        ]
        + [
            {
                "type": "predecessor",
                "resource": canonical.url(RESOURCE_TYPE, routine["previous_routine_id"]),
            }
            if routine.get("previous_routine_id")
            else None
        ],
        "action": actions,
    }
    lines = [
        f"{action['title']}: " + ", ".join(child["title"] for child in action.get("action", []))
        for action in actions
    ]
    result: dict[str, Any] = with_narrative(compact(resource), *lines)
    return result
