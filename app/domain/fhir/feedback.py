"""Feedback on a session in FHIR: the questions as `Questionnaire/session-feedback` (the same as
`POST /v1/routines/{id}/feedback` asks), each stored feedback as a QuestionnaireResponse to it,
and its two 0-10 pain ratings as Observations a clinic can chart across sessions.

A feedback's resources take the routine's id (`{id}`, `{id}-pain-before`, `{id}-pain-after`):
a routine has at most one feedback, written once.
"""

from functools import cache
from typing import Any

from app.domain.fhir.common import (
    PUBLISHER,
    Canonical,
    compact,
    content_version,
    narrative,
    with_narrative,
    with_version,
)
from app.domain.fhir.terminology import PainScore, coding, concept
from app.domain.routines.feedback import Difficulty, Feedback, LegSymptom

QUESTIONNAIRE_ID = "session-feedback"
OBSERVATION_CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
PAIN_ANSWERS = {PainScore.before: "pain_before", PainScore.after: "pain_after"}
"""Which feedback answer each pain Observation carries."""
CHOICES: dict[str, tuple[str, type[Difficulty] | type[LegSymptom]]] = {
    "difficulty": ("session-difficulty", Difficulty),
    "symptoms": ("leg-symptom", LegSymptom),
}
"""The coded questions: their vocabulary and terms."""


def _item_type(name: str) -> str:
    if name in CHOICES:
        return "choice"
    annotation = Feedback.model_fields[name].annotation
    return "integer" if annotation is not None and "int" in str(annotation) else "boolean"


def _question(canonical: Canonical, name: str) -> dict[str, Any]:
    field = Feedback.model_fields[name]
    item: dict[str, Any] = {
        "linkId": name,
        "text": field.description,
        "type": _item_type(name),
        "required": field.is_required(),
        "repeats": True if name == "symptoms" else None,
    }
    if name in CHOICES:
        vocabulary_id, terms = CHOICES[name]
        item["answerOption"] = [
            {"valueCoding": coding(canonical, vocabulary_id, term)} for term in terms
        ]
    return item


@cache
def feedback_questionnaire(canonical: Canonical) -> dict[str, Any]:
    resource = compact(
        {
            "resourceType": "Questionnaire",
            "id": QUESTIONNAIRE_ID,
            "url": canonical.url("Questionnaire", QUESTIONNAIRE_ID),
            "name": "SessionFeedback",
            "title": "How did the session go?",
            "status": "active",
            "experimental": False,
            "subjectType": ["Patient"],
            "publisher": PUBLISHER,
            "description": "The questions asked after a session of a routine, as `POST "
            "/v1/routines/{id}/feedback` asks them: pain before and after (0-10), whether it "
            "was done in full, how it felt, and any new or worse symptoms in a leg.",
            "item": [_question(canonical, name) for name in Feedback.model_fields],
        }
    )
    resource = with_narrative(
        resource, *(str(field.description) for field in Feedback.model_fields.values())
    )
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)


def _answers(canonical: Canonical, name: str, value: Any) -> list[dict[str, Any]]:
    if name in CHOICES:
        vocabulary_id, _ = CHOICES[name]
        values = value if isinstance(value, list) else [value]
        return [{"valueCoding": coding(canonical, vocabulary_id, item)} for item in values]
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    return [{"valueInteger": value}]


def routine_identifier(canonical: Canonical, routine_id: str) -> dict[str, Any]:
    """The routine a feedback is about, as an identifier (QuestionnaireResponse has no element
    that may reference a PlanDefinition)."""
    return {"system": canonical.url("PlanDefinition", ""), "value": routine_id}


def questionnaire_response(canonical: Canonical, feedback: dict[str, Any]) -> dict[str, Any]:
    """A stored feedback as the answers to `Questionnaire/session-feedback`."""
    routine_id = feedback["routine_id"]
    items = [
        {
            "linkId": name,
            "text": field.description,
            "answer": _answers(canonical, name, feedback.get(name)),
        }
        for name, field in Feedback.model_fields.items()
        if feedback.get(name) not in (None, [])
    ]
    resource = compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": routine_id,
            "identifier": routine_identifier(canonical, routine_id),
            "questionnaire": canonical.url("Questionnaire", QUESTIONNAIRE_ID),
            "status": "completed",
            "authored": feedback["created_at"],
            "item": items,
        }
    )
    lines = [f"{name}: {feedback.get(name)}" for name in Feedback.model_fields if name in feedback]
    text = narrative(f"Feedback on routine {routine_id}", *lines)
    return with_version({**resource, "text": text}, "1", feedback["created_at"])


def observation_id(routine_id: str, score: PainScore) -> str:
    return f"{routine_id}-{score.value.removesuffix('-session')}"


def pain_observations(canonical: Canonical, feedback: dict[str, Any]) -> list[dict[str, Any]]:
    """The two pain ratings, each an Observation about the routine (`focus`), derived from the
    QuestionnaireResponse."""
    routine_id = feedback["routine_id"]
    return [
        with_version(
            {
                "resourceType": "Observation",
                "id": observation_id(routine_id, score),
                "status": "final",
                "category": [OBSERVATION_CATEGORY],
                "code": concept(canonical, "pain-score", score),
                "focus": [{"reference": f"PlanDefinition/{routine_id}"}],
                "effectiveDateTime": feedback["created_at"],
                "valueInteger": feedback[answer],
                "derivedFrom": [{"reference": f"QuestionnaireResponse/{routine_id}"}],
                "text": narrative(
                    str(concept(canonical, "pain-score", score)["text"]),
                    f"{feedback[answer]} out of 10, routine {routine_id}.",
                ),
            },
            "1",
            feedback["created_at"],
        )
        for score, answer in PAIN_ANSWERS.items()
    ]
