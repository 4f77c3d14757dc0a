"""StructureDefinitions of the extensions the facade uses, served at their canonical URLs, so a
validator or a clinic system can resolve what each extension means and holds."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from app.domain.fhir.activity import CONTRAINDICATION_EXTENSION_ID
from app.domain.fhir.common import (
    FHIR_VERSION,
    PUBLISHER,
    Canonical,
    compact,
    computable_name,
    content_version,
    with_narrative,
    with_version,
)

RESOURCE_TYPE = "StructureDefinition"
EXTENSION_BASE = "http://hl7.org/fhir/StructureDefinition/Extension"


@dataclass(frozen=True)
class Part:
    """One sub-extension of a complex extension: its url (the slice name), value type, and the
    ValueSet (one of ours) a coded value is bound to."""

    name: str
    value_type: str
    short: str
    definition: str
    value_set: str | None = None


@dataclass(frozen=True)
class ExtensionDefinition:
    id: str
    title: str
    description: str
    context: str
    parts: tuple[Part, ...]


EXTENSIONS: tuple[ExtensionDefinition, ...] = (
    ExtensionDefinition(
        CONTRAINDICATION_EXTENSION_ID,
        "Exercise contraindication",
        "A back sensitivity for which the exercise is avoided by default, and why. "
        "ActivityDefinition has no element for contraindications; `usage` says the same in "
        "words.",
        "ActivityDefinition",
        (
            Part(
                "flag",
                "Coding",
                "The sensitivity flag",
                "Which way of bending makes the person's back pain worse.",
                "sensitivity-flag",
            ),
            Part(
                "reason",
                "string",
                "Why the exercise is avoided",
                "Why this exercise is avoided by default for a person with that flag.",
            ),
        ),
    ),
)
EXTENSIONS_BY_ID = {extension.id: extension for extension in EXTENSIONS}


def _part_elements(canonical: Canonical, part: Part) -> list[dict[str, Any]]:
    slice_id = f"Extension.extension:{part.name}"
    value: dict[str, Any] = {
        "id": f"{slice_id}.value[x]",
        "path": "Extension.extension.value[x]",
        "min": 1,
        "type": [{"code": part.value_type}],
    }
    if part.value_set is not None:
        value["binding"] = {"strength": "required", "valueSet": canonical.value_set(part.value_set)}
    return [
        {
            "id": slice_id,
            "path": "Extension.extension",
            "sliceName": part.name,
            "short": part.short,
            "definition": part.definition,
            "min": 1,
            "max": "1",
        },
        {
            "id": f"{slice_id}.url",
            "path": "Extension.extension.url",
            "fixedUri": part.name,
        },
        value,
    ]


@cache
def structure_definition(canonical: Canonical, extension_id: str) -> dict[str, Any]:
    extension = EXTENSIONS_BY_ID[extension_id]
    url = canonical.url(RESOURCE_TYPE, extension.id)
    elements: list[dict[str, Any]] = [
        {
            "id": "Extension",
            "path": "Extension",
            "short": extension.title,
            "definition": extension.description,
        },
        {
            "id": "Extension.extension",
            "path": "Extension.extension",
            "slicing": {
                "discriminator": [{"type": "value", "path": "url"}],
                "rules": "closed",
            },
            "min": len(extension.parts),
        },
    ]
    for part in extension.parts:
        elements += _part_elements(canonical, part)
    elements += [
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ]
    resource = compact(
        {
            "resourceType": RESOURCE_TYPE,
            "id": extension.id,
            "url": url,
            "name": computable_name(extension.id),
            "title": extension.title,
            "status": "active",
            "experimental": False,
            "publisher": PUBLISHER,
            "description": extension.description,
            "fhirVersion": FHIR_VERSION,
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": extension.context}],
            "type": "Extension",
            "baseDefinition": EXTENSION_BASE,
            "derivation": "constraint",
            "differential": {"element": elements},
        }
    )
    resource = with_narrative(
        resource,
        *(f"{part.name} ({part.value_type}): {part.definition}" for part in extension.parts),
    )
    version = content_version(resource)
    return with_version({**resource, "version": version}, version)
