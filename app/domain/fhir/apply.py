"""`PlanDefinition/{id}/$apply`: the routine instantiated as a CarePlan for a subject the caller
names. Nothing about the subject is stored; the CarePlan is built from the PlanDefinition each
time, so its activities point at the same definitions (tailored ones contained alongside)."""

import re
from collections.abc import Iterator
from typing import Any

from app.domain.fhir.common import compact, with_narrative

SUBJECT_PATTERN = re.compile(
    r"^(Patient|Group)/[A-Za-z0-9\-.]{1,64}$|^https?://[!-~]{1,400}/(Patient|Group)/[A-Za-z0-9\-.]{1,64}$"
)
"""A reference to a Patient or Group (CarePlan.subject's types), relative or absolute."""
UNNAMED_SUBJECT = {"display": "The person this plan is applied for (not named to the server)"}
"""CarePlan.subject is required; without a `subject` parameter the plan names nobody."""


def exercise_actions(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for action in plan.get("action", []):
        if "action" in action:
            yield from action["action"]
        else:
            yield action


def activity(action: dict[str, Any]) -> dict[str, Any]:
    definition = action.get("definitionCanonical")
    result: dict[str, Any] = compact(
        {
            "detail": {
                "kind": "ServiceRequest",
                "instantiatesCanonical": [definition] if definition else None,
                "code": {"text": action.get("title")},
                "status": "not-started",
                "scheduledTiming": action.get("timingTiming"),
                "description": action.get("textEquivalent") or action.get("description"),
            }
        }
    )
    return result


def care_plan(plan: dict[str, Any], subject: str | None) -> dict[str, Any]:
    """A proposal instantiating the plan: one activity per exercise action (or the referral
    advice), in the plan's order, with the plan's contained definitions."""
    result: dict[str, Any] = compact(
        {
            "resourceType": "CarePlan",
            "contained": plan.get("contained"),
            "instantiatesCanonical": [plan["url"]],
            "status": "draft",
            "intent": "proposal",
            "title": plan.get("title"),
            "description": plan.get("description"),
            "subject": {"reference": subject} if subject else UNNAMED_SUBJECT,
            "activity": [activity(action) for action in exercise_actions(plan)],
            "note": [{"text": plan["usage"]}] if plan.get("usage") else None,
        }
    )
    lines = [str(activity["detail"]["code"].get("text")) for activity in result.get("activity", [])]
    applied: dict[str, Any] = with_narrative(result, *lines)
    return applied
