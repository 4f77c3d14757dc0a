"""What every FHIR resource here shares: canonical URLs, version ids and FHIR's JSON rules."""

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson

FHIR_VERSION = "4.0.1"
"""FHIR R4. The tests parse every resource with the R4B models of fhir.resources, whose shapes
for these resource types are the same."""

PUBLISHER = "Backcare API"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Canonical:
    """Where our canonical URLs live: `{base}/{ResourceType}/{id}`. The base is a setting
    (FHIR_CANONICAL_BASE): an identifier that must stay stable, whether or not it resolves."""

    base: str
    public_base: str = "http://127.0.0.1:8000"
    """Where people reach the API (PUBLIC_BASE_URL): links to what it serves, such as an
    exercise's illustrations, are made absolute with it."""

    def url(self, resource_type: str, resource_id: str) -> str:
        return f"{self.base}/{resource_type}/{resource_id}"

    def code_system(self, vocabulary_id: str) -> str:
        return self.url("CodeSystem", vocabulary_id)

    def value_set(self, vocabulary_id: str) -> str:
        return self.url("ValueSet", vocabulary_id)


def compact(value: Any) -> Any:
    """FHIR JSON has no nulls and no empty arrays or objects: drop them, recursively."""
    if isinstance(value, dict):
        kept = {key: compact(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, [], {}, "")}
    if isinstance(value, list):
        kept_items = [compact(item) for item in value]
        return [item for item in kept_items if item not in (None, [], {}, "")]
    return value


def computable_name(text: str) -> str:
    """A FHIR `name` (starts with a capital, letters, digits and _ only) from a slug or title."""
    words = re.split(r"[^A-Za-z0-9]+", text)
    name = "".join(word[:1].upper() + word[1:] for word in words if word)
    return name if name[:1].isalpha() else f"N{name}"


def content_version(resource: dict[str, Any]) -> str:
    """A version id for resources built from code rather than stored rows (vocabularies, the
    questionnaire, the capability statement): it changes exactly when their content does."""
    digest = hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return digest[:16]


def with_version(
    resource: dict[str, Any], version_id: str, last_updated: str | None = None
) -> dict[str, Any]:
    """The resource with `meta` (versionId, and lastUpdated when known) first after its id, as
    FHIR servers usually order it."""
    head = {"resourceType": resource["resourceType"], "id": resource["id"]}
    meta = {"versionId": version_id, "lastUpdated": last_updated} if last_updated else None
    return {**head, "meta": meta or {"versionId": version_id}, **resource}


def markdown_list(lines: list[str], numbered: bool = False) -> str:
    return "\n".join(
        f"{index}. {line}" if numbered else f"- {line}" for index, line in enumerate(lines, 1)
    )


XHTML = "http://www.w3.org/1999/xhtml"


def narrative(heading: str, *lines: str | None) -> dict[str, Any]:
    """A generated narrative: the heading and each line, escaped, in FHIR's XHTML div."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    div = f'<div xmlns="{XHTML}"><h3>{html.escape(heading)}</h3>{paragraphs}</div>'
    return {"status": "generated", "div": div}


def with_narrative(resource: dict[str, Any], *lines: str | None) -> dict[str, Any]:
    """The resource with a narrative made of its title (or name, or id), its description and
    `lines`."""
    heading = str(
        resource.get("title")
        or resource.get("name")
        or resource.get("id")
        or resource["resourceType"]
    )
    text = narrative(heading, resource.get("description"), *lines)
    return {**resource, "text": text}


def folded(text: str) -> str:
    """For string search: accents dropped and case folded (`Cät` finds `cat`)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
