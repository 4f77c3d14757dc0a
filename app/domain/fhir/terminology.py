"""Our vocabularies as FHIR CodeSystems and ValueSets.

Every code here is our own, in a CodeSystem we publish at a stable canonical URL. We use no
SNOMED CT or LOINC codes: we could not cite each mapping from a published source, and a wrong
clinical code is worse than an honest local one. A ValueSet per vocabulary includes all of its
CodeSystem, so a profile can bind to it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from app.domain.fhir.common import (
    PUBLISHER,
    Canonical,
    computable_name,
    content_version,
    with_narrative,
    with_version,
)
from app.domain.guidance import FLAGS, LEVELS
from app.domain.routines.feedback import Difficulty, LegSymptom
from app.domain.routines.model import BLOCK_TITLES, BlockName, SelectionCode
from app.domain.routines.red_flags import RED_FLAGS, RedFlagId, Urgency
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Level,
    Position,
    SpinalMotion,
    TargetArea,
    display_name,
)


class DoseType(StrEnum):
    """What a `doseAndRate` entry of an exercise dosage counts."""

    sets = "sets"
    repetitions = "repetitions"
    repetitions_each_side = "repetitions-each-side"
    hold = "hold"
    rest_between_sets = "rest-between-sets"


DOSE_TYPE_DISPLAY = {
    DoseType.sets: "Sets",
    DoseType.repetitions: "Repetitions",
    DoseType.repetitions_each_side: "Repetitions on each side",
    DoseType.hold: "Hold time of each repetition",
    DoseType.rest_between_sets: "Rest between sets",
}


class PainScore(StrEnum):
    """The two 0-10 pain ratings a session's feedback reports, as Observation codes."""

    before = "pain-before-session"
    after = "pain-after-session"


PAIN_SCORE_DISPLAY = {
    PainScore.before: "Back pain before the session, 0 (none) to 10",
    PainScore.after: "Back pain after the session, 0 (none) to 10",
}
URGENCY_DISPLAY = {
    Urgency.emergency: "Emergency: seek care immediately",
    Urgency.same_day: "See a doctor today",
    Urgency.soon: "See a doctor in the next few days",
}


@dataclass(frozen=True)
class Vocabulary:
    id: str
    title: str
    description: str
    terms: type[StrEnum]
    display: Callable[[StrEnum], str] = display_name
    definitions: dict[str, str] = field(default_factory=dict)

    def concept(self, term: StrEnum) -> dict[str, Any]:
        definition = self.definitions.get(term.value)
        concept = {"code": term.value, "display": self.display(term)}
        return concept if definition is None else {**concept, "definition": definition}


def _humanised(term: StrEnum) -> str:
    return term.value.replace("_", " ").replace("-", " ").capitalize()


VOCABULARIES: tuple[Vocabulary, ...] = (
    Vocabulary(
        "target-area",
        "Target areas",
        "The body areas an exercise works or stretches.",
        TargetArea,
    ),
    Vocabulary(
        "position",
        "Exercise positions",
        "The body position an exercise starts from.",
        Position,
    ),
    Vocabulary(
        "equipment",
        "Exercise equipment",
        "Equipment an exercise needs or can use.",
        Equipment,
    ),
    Vocabulary(
        "level",
        "Progression levels",
        "The three progression levels of the AAOS back-pain exercise program (source 001).",
        Level,
        display=lambda term: next(level.name for level in LEVELS if level.level == term),
        definitions={level.level.value: level.description for level in LEVELS},
    ),
    Vocabulary(
        "sensitivity-flag",
        "Back sensitivity flags",
        "Contraindication flags: which way of bending makes a person's back pain worse. An "
        "exercise carrying a flag is avoided by default for a person with that sensitivity.",
        Flag,
        display=lambda term: next(flag.name for flag in FLAGS if flag.flag == term),
        definitions={flag.flag.value: flag.explanation for flag in FLAGS},
    ),
    Vocabulary(
        "spinal-motion",
        "Spinal motion",
        "The way an exercise moves the lumbar spine.",
        SpinalMotion,
        display=_humanised,
    ),
    Vocabulary(
        "exercise-category",
        "Exercise categories",
        "What kind of exercise it is: stretching, strengthening, core stabilisation, range of "
        "motion or low-impact aerobic work.",
        Category,
    ),
    Vocabulary(
        "dose-type",
        "Dose types",
        "What an exercise dosage's dose counts: sets, repetitions (overall or on each side), "
        "the hold time of each repetition or the rest between sets.",
        DoseType,
        display=lambda term: DOSE_TYPE_DISPLAY[DoseType(term)],
    ),
    Vocabulary(
        "red-flag",
        "Back-pain red flags",
        "Warning signs that call for medical care instead of an exercise routine.",
        RedFlagId,
        display=_humanised,
        definitions={flag.id.value: flag.question for flag in RED_FLAGS},
    ),
    Vocabulary(
        "referral-urgency",
        "Referral urgency",
        "How soon a person with a red flag should seek medical care.",
        Urgency,
        display=lambda term: URGENCY_DISPLAY[Urgency(term)],
    ),
    Vocabulary(
        "routine-block",
        "Routine blocks",
        "The parts of a routine, in the order they are done.",
        BlockName,
        display=lambda term: BLOCK_TITLES[BlockName(term)],
    ),
    Vocabulary(
        "selection-reason",
        "Selection reasons",
        "Why an exercise is in a routine, or how its dosage was set.",
        SelectionCode,
        display=_humanised,
    ),
    Vocabulary(
        "pain-score",
        "Session pain scores",
        "The person's own 0-10 numeric rating of their back pain (0 none, 10 the worst), "
        "before and after a session. Our own codes: we could not check a LOINC code's "
        "definition against LOINC's own published material.",
        PainScore,
        display=lambda term: PAIN_SCORE_DISPLAY[PainScore(term)],
    ),
    Vocabulary(
        "session-difficulty",
        "Session difficulty",
        "How a session felt to the person.",
        Difficulty,
        display=_humanised,
    ),
    Vocabulary(
        "leg-symptom",
        "Leg symptoms",
        "A symptom in a leg that feedback on a session can name.",
        LegSymptom,
        display=_humanised,
    ),
)
VOCABULARIES_BY_ID: dict[str, Vocabulary] = {
    vocabulary.id: vocabulary for vocabulary in VOCABULARIES
}


def coding(canonical: Canonical, vocabulary_id: str, term: StrEnum | str) -> dict[str, Any]:
    vocabulary = VOCABULARIES_BY_ID[vocabulary_id]
    member = vocabulary.terms(term)
    return {
        "system": canonical.code_system(vocabulary_id),
        "code": member.value,
        "display": vocabulary.display(member),
    }


def concept(canonical: Canonical, vocabulary_id: str, term: StrEnum | str) -> dict[str, Any]:
    """A CodeableConcept of one of our codes, with its display as the text."""
    one = coding(canonical, vocabulary_id, term)
    return {"coding": [one], "text": one["display"]}


@cache
def code_system(canonical: Canonical, vocabulary_id: str) -> dict[str, Any]:
    vocabulary = VOCABULARIES_BY_ID[vocabulary_id]
    concepts = [vocabulary.concept(term) for term in vocabulary.terms]
    resource = {
        "resourceType": "CodeSystem",
        "id": vocabulary.id,
        "url": canonical.code_system(vocabulary.id),
        "name": computable_name(vocabulary.title),
        "title": vocabulary.title,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": vocabulary.description,
        "caseSensitive": True,
        "valueSet": canonical.value_set(vocabulary.id),
        "content": "complete",
        "count": len(concepts),
        "concept": concepts,
    }
    resource = with_narrative(
        resource, *(f"{concept['code']}: {concept['display']}" for concept in concepts)
    )
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)


@cache
def value_set(canonical: Canonical, vocabulary_id: str) -> dict[str, Any]:
    vocabulary = VOCABULARIES_BY_ID[vocabulary_id]
    system = code_system(canonical, vocabulary_id)
    resource = {
        "resourceType": "ValueSet",
        "id": vocabulary.id,
        "url": canonical.value_set(vocabulary.id),
        "name": computable_name(vocabulary.title),
        "title": vocabulary.title,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": f"Every code of the {vocabulary.title.lower()} CodeSystem.",
        "immutable": False,
        "compose": {"include": [{"system": system["url"], "version": system["version"]}]},
    }
    resource = with_narrative(resource, f"Includes every code of {system['url']}.")
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)
