"""Questionnaire: the red-flag screening, one boolean question per flag, so a clinic system can
ask the same questions a frontend asks before offering a routine."""

from functools import cache
from typing import Any

from app.domain.fhir.common import (
    PUBLISHER,
    Canonical,
    compact,
    content_version,
    with_narrative,
    with_version,
)
from app.domain.fhir.terminology import coding
from app.domain.routines.red_flags import RED_FLAGS, RedFlag, RedFlagId, matched_red_flags

RESOURCE_TYPE = "Questionnaire"
RED_FLAGS_ID = "red-flags"


def flag_item(canonical: Canonical, flag: RedFlag) -> dict[str, Any]:
    """The question, coded with its flag and its urgency; a `yes` shows the advice."""
    return {
        "linkId": flag.id.value,
        "code": [
            coding(canonical, "red-flag", flag.id),
            coding(canonical, "referral-urgency", flag.urgency),
        ],
        "text": flag.question,
        "type": "boolean",
        "required": True,
        "item": [
            {
                "linkId": f"{flag.id.value}.advice",
                "text": flag.advice,
                "type": "display",
                "enableWhen": [{"question": flag.id.value, "operator": "=", "answerBoolean": True}],
            }
        ],
    }


@cache
def red_flag_questionnaire(canonical: Canonical) -> dict[str, Any]:
    resource = compact(
        {
            "resourceType": RESOURCE_TYPE,
            "id": RED_FLAGS_ID,
            "url": canonical.url(RESOURCE_TYPE, RED_FLAGS_ID),
            "name": "BackPainRedFlagScreening",
            "title": "Back-pain red-flag screening",
            "status": "active",
            "experimental": False,
            "subjectType": ["Patient"],
            "publisher": PUBLISHER,
            "description": "Ask these before offering an exercise routine. Any yes means no "
            "routine: the person should seek medical care, as urgently as the question's "
            "urgency code says.",
            "item": [flag_item(canonical, flag) for flag in RED_FLAGS],
        }
    )
    resource = with_narrative(resource, *(flag.question for flag in RED_FLAGS))
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)


class ScreeningError(ValueError):
    """A QuestionnaireResponse that is not an answered red-flag screening; says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def reported_flags(canonical: Canonical, response: Any) -> list[RedFlagId]:
    """The flags answered `true` in a QuestionnaireResponse to the red-flag screening."""
    if not isinstance(response, dict) or response.get("resourceType") != "QuestionnaireResponse":
        raise ScreeningError("resourceType", "must be a QuestionnaireResponse")
    questionnaire = str(response.get("questionnaire", "")).split("|")[0]
    if questionnaire != canonical.url(RESOURCE_TYPE, RED_FLAGS_ID):
        raise ScreeningError(
            "questionnaire", f"must be {canonical.url(RESOURCE_TYPE, RED_FLAGS_ID)}"
        )
    items = response.get("item", [])
    if not isinstance(items, list):
        raise ScreeningError("item", "must be a list")
    known = {flag.id.value for flag in RED_FLAGS}
    reported = []
    for index, item in enumerate(items):
        link_id = item.get("linkId") if isinstance(item, dict) else None
        if link_id not in known:
            raise ScreeningError(f"item[{index}].linkId", f"not a red flag: {link_id!r}")
        answers = item.get("answer", [])
        values = [answer.get("valueBoolean") for answer in answers if isinstance(answer, dict)]
        if len(values) != 1 or not isinstance(values[0], bool):
            raise ScreeningError(f"item[{index}].answer", "one valueBoolean")
        if values[0]:
            reported.append(RedFlagId(link_id))
    return reported


def screening_outcome(canonical: Canonical, reported: list[RedFlagId]) -> dict[str, Any]:
    """What `POST /v1/routines` would decide from these red flags (without a clinician's
    clearance): `refer`, with the most urgent flag's urgency and advice, or `routine`."""
    flags = matched_red_flags(reported)
    parameters: list[dict[str, Any]] = [
        {"name": "outcome", "valueCode": "refer" if flags else "routine"}
    ]
    if flags:
        most_urgent = flags[0]
        parameters += [
            {
                "name": "urgency",
                "valueCoding": coding(canonical, "referral-urgency", most_urgent.urgency),
            },
            {"name": "advice", "valueString": most_urgent.advice},
        ]
        parameters += [
            {"name": "redFlag", "valueCoding": coding(canonical, "red-flag", flag.id)}
            for flag in flags
        ]
    return {"resourceType": "Parameters", "parameter": parameters}


EVALUATE_ID = "Questionnaire-evaluate"
EVALUATE_PARAMETERS: tuple[tuple[str, str, str, int, str, str], ...] = (
    ("response", "in", "QuestionnaireResponse", 1, "1", "The answered red-flag screening."),
    ("outcome", "out", "code", 1, "1", "refer, or routine when no red flag is answered yes."),
    ("urgency", "out", "Coding", 0, "1", "For refer: the most urgent flag's referral urgency."),
    ("advice", "out", "string", 0, "1", "For refer: what that flag advises."),
    (
        "redFlag",
        "out",
        "Coding",
        0,
        "*",
        "For refer: each red flag answered yes, most urgent first.",
    ),
)


@cache
def evaluate_operation(canonical: Canonical) -> dict[str, Any]:
    """The OperationDefinition of `Questionnaire/red-flags/$evaluate`, which the
    CapabilityStatement names."""
    resource = compact(
        {
            "resourceType": "OperationDefinition",
            "id": EVALUATE_ID,
            "url": canonical.url("OperationDefinition", EVALUATE_ID),
            "name": "EvaluateRedFlagScreening",
            "title": "Screen a red-flag QuestionnaireResponse",
            "status": "active",
            "kind": "operation",
            "experimental": False,
            "publisher": PUBLISHER,
            "description": "What POST /v1/routines decides from the red flags a "
            "QuestionnaireResponse to Questionnaire/red-flags answers yes (without a clinician's "
            "clearance). The body is the QuestionnaireResponse itself. Nothing is stored.",
            "affectsState": False,
            "code": "evaluate",
            "resource": ["Questionnaire"],
            "system": False,
            "type": False,
            "instance": True,
            "parameter": [
                {
                    "name": name,
                    "use": use,
                    "min": low,
                    "max": high,
                    "documentation": documentation,
                    "type": value_type,
                }
                for name, use, value_type, low, high, documentation in EVALUATE_PARAMETERS
            ],
        }
    )
    resource = with_narrative(
        resource, *(f"{name} ({use}): {text}" for name, use, _, _, _, text in EVALUATE_PARAMETERS)
    )
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)
