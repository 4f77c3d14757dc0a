"""Questionnaire: the red-flag screening, one boolean question per flag, so a clinic system can
ask the same questions a frontend asks before offering a routine."""

from functools import cache
from typing import Any

from app.domain.fhir.common import PUBLISHER, Canonical, compact, content_version, with_version
from app.domain.fhir.terminology import coding
from app.domain.routines.red_flags import RED_FLAGS, RedFlag

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
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)
