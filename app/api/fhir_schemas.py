"""The FHIR resources the facade serves, as the contract's component schemas: a trimmed R4 schema
of each, naming the elements this API emits with R4's JSON types, so a generated client knows
that a PlanDefinition has `action`, an ActivityDefinition `dosage` and `relatedArtifact`, a
Bundle entries of a known type. Other elements may come in a later version: `additionalProperties`
stays open, as in FHIR's own JSON schema's spirit of must-ignore (tests/api/contract_validation.py
closes it, so an element emitted but not declared here fails the tests).

Resource types keep their FHIR names (`PlanDefinition`); data types are prefixed `Fhir`
(`FhirDosage`), beside the JSON API's own `Dosage`.
"""

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
DECIMAL: Schema = {"type": "number"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(item: Schema) -> Schema:
    return {"type": "array", "items": item, "minItems": 1}


def element(properties: Schema, *required: str, description: str | None = None) -> Schema:
    """An object with these elements (`required`: those always sent)."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description is not None:
        schema["description"] = description
    return schema


CODING = ref("FhirCoding")
CONCEPT = ref("FhirCodeableConcept")
QUANTITY = ref("FhirQuantity")
REFERENCE = ref("FhirReference")
TIMING = ref("FhirTiming")

DATA_TYPES: dict[str, Schema] = {
    "FhirCoding": element({"system": STRING, "version": STRING, "code": STRING, "display": STRING}),
    "FhirCodeableConcept": element({"coding": array(CODING), "text": STRING}),
    "FhirReference": element({"reference": STRING, "display": STRING}),
    "FhirIdentifier": element({"system": STRING, "value": STRING}),
    "FhirMeta": element(
        {"versionId": STRING, "lastUpdated": STRING, "tag": array(CODING)},
        description="`versionId` is the resource's version (its ETag's); a subset (`_elements`) "
        "is tagged SUBSETTED.",
    ),
    "FhirNarrative": element({"status": STRING, "div": STRING}, "status", "div"),
    "FhirQuantity": element({"value": DECIMAL, "unit": STRING, "system": STRING, "code": STRING}),
    "FhirRange": element({"low": QUANTITY, "high": QUANTITY}),
    "FhirTiming": element(
        {
            "code": CONCEPT,
            "repeat": element(
                {
                    "frequency": INTEGER,
                    "frequencyMax": INTEGER,
                    "period": DECIMAL,
                    "periodUnit": STRING,
                    "duration": DECIMAL,
                    "durationUnit": STRING,
                }
            ),
        },
        description="`code.text` is the frequency in words; `repeat` the numbers, when known.",
    ),
    "FhirDosage": element(
        {
            "text": STRING,
            "patientInstruction": STRING,
            "timing": TIMING,
            "doseAndRate": array(
                element({"type": CONCEPT, "doseQuantity": QUANTITY, "doseRange": ref("FhirRange")})
            ),
        },
        description="A dose: its text, timing, and sets, repetitions and holds as `doseAndRate` "
        "typed by the `dose-type` CodeSystem.",
    ),
    "FhirRelatedArtifact": element(
        {
            "type": STRING,
            "label": STRING,
            "display": STRING,
            "citation": STRING,
            "resource": STRING,
            "document": element({"contentType": STRING, "url": STRING, "title": STRING}),
        },
        "type",
    ),
    "FhirExpression": element(
        {"description": STRING, "name": STRING, "language": STRING, "expression": STRING},
        "language",
    ),
    "FhirExtension": element(
        {
            "url": STRING,
            "valueString": STRING,
            "valueCoding": CODING,
            "extension": array(
                element({"url": STRING, "valueString": STRING, "valueCoding": CODING}, "url")
            ),
        },
        "url",
        description="An extension; `url` names its StructureDefinition.",
    ),
}


def resource(
    resource_type: str,
    description: str,
    elements: Schema,
    *required: str,
    example: Schema | None = None,
) -> Schema:
    """A resource: `resourceType`, the elements every resource here may have, and `elements`."""
    properties: Schema = {
        "resourceType": {"type": "string", "enum": [resource_type]},
        "id": STRING,
        "meta": ref("FhirMeta"),
        "text": ref("FhirNarrative"),
        **elements,
    }
    schema = element(properties, "resourceType", *required, description=description)
    schema["examples"] = [example or {"resourceType": resource_type}]
    return schema


CANONICAL_ELEMENTS: Schema = {
    "url": STRING,
    "version": STRING,
    "name": STRING,
    "title": STRING,
    "status": STRING,
    "experimental": BOOLEAN,
    "date": STRING,
    "publisher": STRING,
    "description": STRING,
}
"""What a definitional (canonical) resource carries: its canonical `url|version` and the rest."""


def definition(resource_type: str, description: str, elements: Schema, *required: str) -> Schema:
    return resource(resource_type, description, {**CANONICAL_ELEMENTS, **elements}, *required)


PLAN_ACTION_ELEMENTS: Schema = {
    "id": STRING,
    "title": STRING,
    "description": STRING,
    "textEquivalent": STRING,
    "priority": STRING,
    "code": array(CONCEPT),
    "reason": array(CONCEPT),
    "documentation": array(ref("FhirRelatedArtifact")),
    "condition": array(element({"kind": STRING, "expression": ref("FhirExpression")}, "kind")),
    "relatedAction": array(element({"actionId": STRING, "relationship": STRING})),
    "timingTiming": TIMING,
    "timingDuration": QUANTITY,
    "groupingBehavior": STRING,
    "selectionBehavior": STRING,
    "requiredBehavior": STRING,
    "definitionCanonical": {
        "type": "string",
        "description": "The ActivityDefinition, as `url|version`, or `#dose-{id}` for a "
        "contained one holding a tailored dose.",
    },
}

BUNDLE_ENTRY_ELEMENTS: Schema = {
    "fullUrl": STRING,
    "search": element({"mode": STRING}),
    "request": element({"method": STRING, "url": STRING}),
    "response": element({"status": STRING, "etag": STRING, "lastModified": STRING}),
}


def bundle(entry_type: str, description: str, *other_entry_types: str) -> Schema:
    entry_resource = (
        {"oneOf": [ref(name) for name in (entry_type, *other_entry_types)]}
        if other_entry_types
        else ref(entry_type)
    )
    return resource(
        "Bundle",
        description,
        {
            "type": STRING,
            "total": INTEGER,
            "link": array(element({"relation": STRING, "url": STRING}, "relation", "url")),
            "entry": array(element({**BUNDLE_ENTRY_ELEMENTS, "resource": entry_resource})),
        },
        "type",
        example={"resourceType": "Bundle", "type": "searchset", "total": 0},
    )


RESOURCES: dict[str, Schema] = {
    "ActivityDefinition": definition(
        "ActivityDefinition",
        "A published exercise (id = slug): steps and cautions as `usage`, each contraindication "
        "as an `exercise-contraindication` extension, cited dosages, body sites, citations and "
        "illustrations as `relatedArtifact`.",
        {
            "extension": array(ref("FhirExtension")),
            "subtitle": STRING,
            "purpose": STRING,
            "usage": STRING,
            "topic": array(CONCEPT),
            "relatedArtifact": array(ref("FhirRelatedArtifact")),
            "kind": STRING,
            "timingTiming": TIMING,
            "participant": array(element({"type": STRING, "role": CONCEPT}, "type")),
            "dosage": array(ref("FhirDosage")),
            "bodySite": array(CONCEPT),
        },
        "status",
    ),
    "PlanDefinition": definition(
        "PlanDefinition",
        "A stored routine (id = routine id): its blocks as action groups, each exercise an "
        "action whose `definitionCanonical` names the ActivityDefinition as `url|version`.",
        {
            "contained": array(ref("ActivityDefinition")),
            "type": CONCEPT,
            "usage": STRING,
            "relatedArtifact": array(ref("FhirRelatedArtifact")),
            "action": array(
                element(
                    {**PLAN_ACTION_ELEMENTS, "action": array(element(PLAN_ACTION_ELEMENTS))},
                    description="A block (its exercises as `action`), or a referral's advice.",
                )
            ),
        },
        "status",
    ),
    "CarePlan": resource(
        "CarePlan",
        "A routine applied for a subject: a proposal, never stored.",
        {
            "contained": array(ref("ActivityDefinition")),
            "instantiatesCanonical": array(STRING),
            "status": STRING,
            "intent": STRING,
            "title": STRING,
            "description": STRING,
            "subject": REFERENCE,
            "note": array(element({"text": STRING}, "text")),
            "activity": array(
                element(
                    {
                        "detail": element(
                            {
                                "kind": STRING,
                                "instantiatesCanonical": array(STRING),
                                "code": CONCEPT,
                                "status": STRING,
                                "description": STRING,
                                "scheduledTiming": TIMING,
                            },
                            "status",
                        )
                    }
                )
            ),
        },
        "status",
        "intent",
    ),
    "Questionnaire": definition(
        "Questionnaire",
        "The red-flag screening or the session-feedback questions.",
        {
            "subjectType": array(STRING),
            "item": array(ref("FhirQuestionnaireItem")),
        },
        "status",
    ),
    "QuestionnaireResponse": resource(
        "QuestionnaireResponse",
        "The feedback on a routine, as answers to `Questionnaire/session-feedback`.",
        {
            "identifier": ref("FhirIdentifier"),
            "questionnaire": STRING,
            "status": STRING,
            "authored": STRING,
            "item": array(
                element(
                    {
                        "linkId": STRING,
                        "text": STRING,
                        "answer": array(
                            element(
                                {
                                    "valueBoolean": BOOLEAN,
                                    "valueInteger": INTEGER,
                                    "valueString": STRING,
                                    "valueCoding": CODING,
                                }
                            )
                        ),
                    },
                    "linkId",
                )
            ),
        },
        "status",
    ),
    "Observation": resource(
        "Observation",
        "A 0-10 pain rating from a session's feedback.",
        {
            "status": STRING,
            "category": array(CONCEPT),
            "code": CONCEPT,
            "focus": array(REFERENCE),
            "effectiveDateTime": STRING,
            "valueInteger": INTEGER,
            "derivedFrom": array(REFERENCE),
        },
        "status",
        "code",
    ),
    "CodeSystem": definition(
        "CodeSystem",
        "One of the API's vocabularies, every code listed.",
        {
            "caseSensitive": BOOLEAN,
            "valueSet": STRING,
            "content": STRING,
            "count": INTEGER,
            "concept": array(
                element({"code": STRING, "display": STRING, "definition": STRING}, "code")
            ),
        },
        "status",
        "content",
    ),
    "ValueSet": definition(
        "ValueSet",
        "Every code of one of the API's CodeSystems.",
        {
            "immutable": BOOLEAN,
            "compose": element(
                {"include": array(element({"system": STRING, "version": STRING}))}, "include"
            ),
        },
        "status",
    ),
    "CapabilityStatement": definition(
        "CapabilityStatement",
        "What the facade serves: read-only interactions, operations, search parameters, JSON.",
        {
            "kind": STRING,
            "software": element({"name": STRING, "version": STRING}, "name"),
            "implementation": element({"description": STRING, "url": STRING}, "description"),
            "fhirVersion": STRING,
            "format": array(STRING),
            "rest": array(
                element(
                    {
                        "mode": STRING,
                        "documentation": STRING,
                        "resource": array(ref("FhirCapabilityResource")),
                    },
                    "mode",
                )
            ),
        },
        "status",
        "kind",
        "fhirVersion",
        "format",
    ),
    "StructureDefinition": definition(
        "StructureDefinition",
        "The definition of an extension the resources here use.",
        {
            "fhirVersion": STRING,
            "kind": STRING,
            "abstract": BOOLEAN,
            "context": array(element({"type": STRING, "expression": STRING})),
            "type": STRING,
            "baseDefinition": STRING,
            "derivation": STRING,
            "differential": element({"element": array(ref("FhirElementDefinition"))}),
        },
        "url",
        "name",
        "status",
        "kind",
        "abstract",
        "type",
    ),
    "OperationDefinition": definition(
        "OperationDefinition",
        "The definition of an operation served here, its parameters in and out.",
        {
            "kind": STRING,
            "affectsState": BOOLEAN,
            "code": STRING,
            "resource": array(STRING),
            "system": BOOLEAN,
            "type": BOOLEAN,
            "instance": BOOLEAN,
            "parameter": array(
                element(
                    {
                        "name": STRING,
                        "use": STRING,
                        "min": INTEGER,
                        "max": STRING,
                        "documentation": STRING,
                        "type": STRING,
                    },
                    "name",
                    "use",
                    "min",
                    "max",
                )
            ),
        },
        "name",
        "status",
        "kind",
        "code",
    ),
    "Parameters": resource(
        "Parameters",
        "An operation's input or answer: named values (`$apply` takes a `subject`, as a "
        "`valueReference` or `valueString`).",
        {
            "parameter": array(
                element(
                    {
                        "name": STRING,
                        "valueCode": STRING,
                        "valueString": STRING,
                        "valueCoding": CODING,
                        "valueReference": REFERENCE,
                    },
                    "name",
                )
            )
        },
    ),
    "ActivityDefinitionBundle": bundle(
        "ActivityDefinition",
        "A searchset (or history) Bundle of ActivityDefinitions; with `Prefer: "
        "handling=lenient`, an OperationOutcome entry (search mode `outcome`) names what was "
        "ignored.",
        "OperationOutcome",
    ),
    "QuestionnaireResponseBundle": bundle(
        "QuestionnaireResponse", "A searchset Bundle of session feedback (none or one)."
    ),
    "ObservationBundle": bundle(
        "Observation", "A searchset Bundle of a session's pain ratings (none or two)."
    ),
}

QUESTIONNAIRE_ITEM: Schema = {
    "linkId": STRING,
    "text": STRING,
    "type": STRING,
    "required": BOOLEAN,
    "repeats": BOOLEAN,
    "code": array(CODING),
    "answerOption": array(element({"valueCoding": CODING})),
    "enableWhen": array(
        element({"question": STRING, "operator": STRING, "answerBoolean": BOOLEAN}, "question")
    ),
}

PARTS: dict[str, Schema] = {
    "FhirQuestionnaireItem": element(
        {**QUESTIONNAIRE_ITEM, "item": array(element(QUESTIONNAIRE_ITEM, "linkId", "type"))},
        "linkId",
        "type",
        description="A question (or group, or display text); a group's questions are `item`.",
    ),
    "FhirCapabilityResource": element(
        {
            "type": STRING,
            "documentation": STRING,
            "interaction": array(element({"code": STRING}, "code")),
            "versioning": STRING,
            "readHistory": BOOLEAN,
            "updateCreate": BOOLEAN,
            "conditionalRead": STRING,
            "searchParam": array(
                element(
                    {"name": STRING, "definition": STRING, "type": STRING, "documentation": STRING},
                    "name",
                    "type",
                )
            ),
            "operation": array(
                element(
                    {"name": STRING, "definition": STRING, "documentation": STRING},
                    "name",
                    "definition",
                )
            ),
        },
        "type",
    ),
    "FhirElementDefinition": element(
        {
            "id": STRING,
            "path": STRING,
            "sliceName": STRING,
            "short": STRING,
            "definition": STRING,
            "min": INTEGER,
            "max": STRING,
            "fixedUri": STRING,
            "type": array(element({"code": STRING}, "code")),
            "binding": element({"strength": STRING, "valueSet": STRING}, "strength"),
            "slicing": element(
                {
                    "discriminator": array(element({"type": STRING, "path": STRING})),
                    "rules": STRING,
                },
                "rules",
            ),
        },
        "path",
    ),
}

FHIR_SCHEMAS: dict[str, Schema] = {**DATA_TYPES, **PARTS, **RESOURCES}
"""Every component schema above, by name (OperationOutcome is `app.core.errors`' model)."""


def resource_type_of(name: str) -> str:
    """The FHIR resource type a component schema describes (`Bundle` for `ObservationBundle`)."""
    resource_type: str = FHIR_SCHEMAS[name]["properties"]["resourceType"]["enum"][0]
    return resource_type
