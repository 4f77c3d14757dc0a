"""The CapabilityStatement: exactly the interactions and search parameters the facade serves.

The router reads the same tables (`SEARCH_PARAMETERS`, `READ_ONLY`), so what is declared here is
what is accepted and nothing else.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from app.domain.fhir.common import (
    FHIR_VERSION,
    PUBLISHER,
    Canonical,
    compact,
    content_version,
    with_narrative,
    with_version,
)
from app.domain.fhir.profiles import EXTENSIONS
from app.domain.fhir.terminology import VOCABULARIES


@dataclass(frozen=True)
class SearchParameter:
    name: str
    type: str
    documentation: str
    definition: str | None = None


SEARCH_PARAMETERS: tuple[SearchParameter, ...] = (
    SearchParameter(
        "_id",
        "token",
        "The exercise slug. Comma-separated values are alternatives.",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
    ),
    SearchParameter(
        "name",
        "string",
        "Starts with this text (case-insensitive), matched against the computable name.",
        "http://hl7.org/fhir/SearchParameter/ActivityDefinition-name",
    ),
    SearchParameter(
        "topic",
        "token",
        "A category, level, position or spinal-motion code, as `code` or `system|code`.",
        "http://hl7.org/fhir/SearchParameter/ActivityDefinition-topic",
    ),
    SearchParameter(
        "url",
        "uri",
        "The canonical URL, exactly; `url|version` also requires that version.",
        "http://hl7.org/fhir/SearchParameter/ActivityDefinition-url",
    ),
    SearchParameter(
        "status",
        "token",
        "draft | active | retired | unknown. Only published exercises are served: all are active.",
        "http://hl7.org/fhir/SearchParameter/ActivityDefinition-status",
    ),
)
SEARCH_RESULT_PARAMETERS = ("_count",)
"""`_count`: page size, 0-100 (default 20; larger values are served as 100, as FHIR allows)."""
PAGING_PARAMETER = "_cursor"
"""The opaque position in a result set; clients follow `next` links rather than building it."""
FORMAT_PARAMETER = "_format"
FORMATS = ("json", "application/json", "application/fhir+json")

READ_ONLY = (
    "CapabilityStatement",
    "CodeSystem",
    "OperationDefinition",
    "PlanDefinition",
    "Questionnaire",
    "StructureDefinition",
    "ValueSet",
)
CAPABILITY_ID = "backcare"
SERVED_TYPES = frozenset({*READ_ONLY, "ActivityDefinition", "Observation", "QuestionnaireResponse"})


def _read_only(resource_type: str, documentation: str) -> dict[str, Any]:
    return {
        "type": resource_type,
        "documentation": documentation,
        "interaction": [{"code": "read"}],
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalRead": "not-match",
    }


@cache
def capability_statement(canonical: Canonical, software_version: str) -> dict[str, Any]:
    codes = ", ".join(vocabulary.id for vocabulary in VOCABULARIES)
    extensions = ", ".join(extension.id for extension in EXTENSIONS)
    resources = [
        {
            **_read_only(
                "ActivityDefinition",
                "One per published exercise; id = slug. Every version that was published "
                "stays readable (vread, `_history`, `url|version` search).",
            ),
            "interaction": [
                {"code": "read"},
                {"code": "vread"},
                {"code": "history-instance"},
                {"code": "search-type"},
            ],
            "readHistory": True,
            "searchParam": [
                {
                    "name": parameter.name,
                    "definition": parameter.definition,
                    "type": parameter.type,
                    "documentation": parameter.documentation,
                }
                for parameter in SEARCH_PARAMETERS
            ]
            + [
                {
                    "name": "_lastUpdated",
                    "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
                    "type": "date",
                    "documentation": "When the version served was written (eq, gt, ge, lt, le; "
                    "repeat for a range): for incremental sync.",
                }
            ],
        },
        _read_only(
            "CapabilityStatement", f"This statement, also at its canonical URL: {CAPABILITY_ID}."
        ),
        _read_only("CodeSystem", f"Our own vocabularies: {codes}."),
        _read_only(
            "OperationDefinition",
            "Questionnaire-evaluate: the red-flag screening's $evaluate.",
        ),
        _read_only(
            "Observation",
            "The 0-10 pain ratings before and after a session, from its feedback: id "
            "`{routine-id}-pain-before` / `-pain-after`; search by `focus=PlanDefinition/{id}`.",
        )
        | {
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {
                    "name": "focus",
                    "definition": "http://hl7.org/fhir/SearchParameter/Observation-focus",
                    "type": "reference",
                    "documentation": "PlanDefinition/{routine-id}: the ratings of its session.",
                }
            ],
        },
        _read_only(
            "PlanDefinition",
            "One per stored routine; id = routine id. Routines are written once (version 1).",
        )
        | {
            "operation": [
                {
                    "name": "apply",
                    "definition": "http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply",
                    "documentation": "GET or POST: a CarePlan proposal for `subject`; nothing "
                    "is stored.",
                }
            ]
        },
        _read_only(
            "Questionnaire",
            "red-flags (the screening) and session-feedback (the questions after a session).",
        )
        | {
            "operation": [
                {
                    "name": "evaluate",
                    "definition": canonical.url("OperationDefinition", "Questionnaire-evaluate"),
                    "documentation": "POST a QuestionnaireResponse to red-flags to "
                    "Questionnaire/red-flags/$evaluate: a Parameters resource with the outcome "
                    "POST /v1/routines would give (refer or routine, urgency, advice).",
                }
            ]
        },
        _read_only(
            "QuestionnaireResponse",
            "The feedback on a routine; id = routine id; search by `identifier` (the routine).",
        )
        | {
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {
                    "name": "identifier",
                    "definition": "http://hl7.org/fhir/SearchParameter/"
                    "QuestionnaireResponse-identifier",
                    "type": "token",
                    "documentation": "[system|]routine-id",
                }
            ],
        },
        _read_only("StructureDefinition", f"The extensions the resources here use: {extensions}."),
        _read_only("ValueSet", f"All codes of each of our CodeSystems: {codes}."),
    ]
    resource = compact(
        {
            "resourceType": "CapabilityStatement",
            "id": CAPABILITY_ID,
            "url": canonical.url("CapabilityStatement", CAPABILITY_ID),
            "name": "BackcareFhirFacade",
            "title": "Backcare API FHIR R4 facade",
            "status": "active",
            "experimental": False,
            "date": "2026-11-29",
            "publisher": PUBLISHER,
            "description": "A read-only FHIR R4 view of the Backcare exercise catalogue, stored "
            "routines, their feedback and the red-flag screening. Unknown or unsupported "
            "parameters are refused with an OperationOutcome (strict handling) unless the "
            "request says `Prefer: handling=lenient`: then they are ignored, left out of the "
            "Bundle's self link and named in an OperationOutcome entry.",
            "kind": "instance",
            "software": {"name": "Backcare API", "version": software_version},
            "implementation": {"description": "Backcare API FHIR facade"},
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Read-only. `_format` (json) is accepted on every "
                    "interaction. ActivityDefinition searches take `_count` (at most 100), "
                    "`_summary=count` (no other summary), `_total` (none, estimate, accurate: "
                    "always exact) and `_elements` (top-level elements; id, meta and status are "
                    "kept), and page with `next` links; `self` carries only what was used. "
                    'ETag is W/"versionId", Last-Modified is meta.lastUpdated where known; '
                    "If-None-Match answers 304.",
                    "resource": resources,
                }
            ],
        }
    )
    resource = with_narrative(
        resource,
        *(
            f"{entry['type']}: " + ", ".join(i["code"] for i in entry["interaction"])
            for entry in resource["rest"][0]["resource"]
        ),
    )
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)
