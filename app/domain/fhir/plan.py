"""PlanDefinition: one per stored routine, mapped from the routine document as it was stored.

Each block is an action group, in order; each exercise an action whose `definitionCanonical`
names the ActivityDefinition at the version the routine's snapshot holds (`url|version`). A
`refer` routine has no exercise actions: its one action is the referral advice. A routine a
clinician has cleared despite a "see someone soon" red flag keeps that advice as its first action.
"""

from typing import Any

from app.domain.fhir.common import PUBLISHER, Canonical, compact, markdown_list
from app.domain.fhir.terminology import coding, concept
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


def timing(frequency_text: str | None, repeat: dict[str, Any]) -> dict[str, Any]:
    """The frequency as the routine states it (text) and, where the stored routine has the
    numbers (`times_per_day`, `aerobic_times_per_week`), as a structured repeat."""
    return {"code": {"text": frequency_text} if frequency_text else None, "repeat": repeat}


def block_repeat(routine: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    frequency = routine.get("frequency") or {}
    if block["name"] == BlockName.aerobic:
        times, period_unit = frequency.get("aerobic_times_per_week"), "wk"
    else:
        times, period_unit = frequency.get("times_per_day"), "d"
    return {"frequency": times, "period": 1, "periodUnit": period_unit} if times else {}


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


def exercise_action(
    canonical: Canonical, item: dict[str, Any], frequency_text: str | None, repeat: dict[str, Any]
) -> dict[str, Any]:
    exercise = item["exercise"]
    return {
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
        "timingTiming": timing(frequency_text, {**repeat, **item_duration(item)}),
        "definitionCanonical": (
            f"{canonical.url('ActivityDefinition', exercise['slug'])}|{exercise['version']}"
        ),
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
    canonical: Canonical, routine: dict[str, Any], block: dict[str, Any], previous: str | None
) -> dict[str, Any]:
    frequency_text = block_frequency(routine, block)
    repeat = block_repeat(routine, block)
    return {
        "id": action_id(block),
        "title": block["title"],
        "code": [concept(canonical, "routine-block", block["name"])],
        "relatedAction": (
            [{"actionId": previous, "relationship": "after-end"}] if previous else None
        ),
        "groupingBehavior": "visual-group",
        "selectionBehavior": "all",
        "requiredBehavior": "must",
        "action": [
            exercise_action(canonical, item, frequency_text, repeat) for item in block["items"]
        ],
    }


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
    if routine["outcome"] != "refer":
        previous = None
        for block in routine["blocks"]:
            actions.append(block_action(canonical, routine, block, previous))
            previous = action_id(block)
    minutes = routine.get("estimated_minutes")
    description = routine.get("explanation") or (
        f"A back-care exercise routine of about {minutes} minutes." if minutes else None
    )
    resource = {
        "resourceType": RESOURCE_TYPE,
        "id": routine_id,
        "meta": {"versionId": "1"},
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
    result: dict[str, Any] = compact(resource)
    return result
