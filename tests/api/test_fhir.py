"""The FHIR R4 facade: every resource it serves passes three R4 validators (fhir_validation: unknown
elements and wrong cardinality fail), canonical references resolve, searches page, errors are
OperationOutcomes, and reads are versioned."""

from typing import Any

import pytest
from contract_validation import assert_declared
from fastapi.testclient import TestClient
from fhir_validation import assert_valid_r4
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.core.security import Role
from app.db.key_queries import create_key
from app.db.session import build_engine
from app.domain.fhir.capability import SEARCH_PARAMETERS, SERVED_TYPES
from app.domain.fhir.terminology import VOCABULARIES
from app.domain.routines import RED_FLAGS

FHIR = "application/fhir+json; charset=utf-8"
BASE = "/fhir/r4"
CANONICAL = "https://backcare.example/fhir/r4"

PROFILES: list[dict[str, Any]] = [
    {},
    {"sensitivity": "flexion_sensitive", "target_areas": ["hamstrings"], "minutes": 30},
    {"sensitivity": "extension_sensitive", "include_aerobic": True, "minutes": 45},
    {
        "include_aerobic": True,
        "minutes": 60,
        "phase": "maintenance",
        "available_equipment": ["bicycle", "treadmill", "pool"],
    },
    {"sensitivity": "none", "level": "advanced", "available_equipment": ["mat", "strap"]},
    {"can_get_on_floor": False, "available_equipment": ["bed"], "phase": "maintenance"},
    {"leg_symptoms": True, "helper_available": True, "phase": "recovering", "seed": 7},
    {"red_flags": ["fever", "history_of_cancer"]},
    {"red_flags": ["history_of_cancer"], "cleared_by_clinician": True, "minutes": 15},
]


def make_key(url: str, name: str, role: Role) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return key


def parsed(response: Any, resource_type: str, status: int = 200) -> dict[str, Any]:
    """The body, checked by three R4 validators (see fhir_validation), FHIR's JSON rules and the
    contract's own schema for the answer (contract_validation)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR
    assert_declared(response)
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == resource_type
    assert_valid_r4(body)
    assert_fhir_json(body)
    assert_narrated(body)
    return body


NOT_DOMAIN_RESOURCES = frozenset({"Bundle", "Parameters"})


def assert_narrated(resource: dict[str, Any]) -> None:
    """Every resource but a Bundle or Parameters has a generated narrative; contained ones have
    none (FHIR forbids it); a Bundle's entries are checked too."""
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            if "SUBSETTED" not in str(entry["resource"].get("meta", {})):
                assert_narrated(entry["resource"])
        return
    if resource["resourceType"] in NOT_DOMAIN_RESOURCES:
        return
    text = resource["text"]
    assert text["status"] == "generated"
    assert text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    for contained in resource.get("contained", []):
        assert "text" not in contained


def assert_fhir_json(value: Any, path: str = "") -> None:
    """FHIR JSON has no nulls and no empty strings, arrays or objects."""
    assert value not in (None, "", [], {}), path
    if isinstance(value, dict):
        for key, item in value.items():
            assert_fhir_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_fhir_json(item, f"{path}[{index}]")


def outcome(response: Any, status: int) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome, each of which names the request at its end."""
    issues: list[dict[str, Any]] = parsed(response, "OperationOutcome", status)["issue"]
    named = f" request_id={response.headers['x-request-id']}"
    assert all(issue["diagnostics"].endswith(named) for issue in issues), issues
    return issues


def all_slugs(client: TestClient) -> list[str]:
    slugs: list[str] = []
    url: str | None = "/v1/exercises?limit=100"
    while url:
        page = client.get(url).json()
        slugs += [item["slug"] for item in page["items"]]
        url = (
            f"/v1/exercises?limit=100&cursor={page['next_cursor']}" if page["next_cursor"] else None
        )
    return slugs


def search(client: TestClient, query: str = "") -> dict[str, Any]:
    return parsed(client.get(f"{BASE}/ActivityDefinition{query}"), "Bundle")


def entry_ids(bundle: dict[str, Any]) -> list[str]:
    ids = []
    for entry in bundle.get("entry", []):
        assert_valid_r4(entry["resource"])
        assert entry["fullUrl"].endswith(f"{BASE}/ActivityDefinition/{entry['resource']['id']}")
        assert entry["search"] == {"mode": "match"}
        ids.append(entry["resource"]["id"])
    return ids


def next_link(bundle: dict[str, Any]) -> str | None:
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    return links.get("next")


class TestActivityDefinition:
    def test_every_exercise_is_a_valid_activity_definition(self, client: TestClient) -> None:
        for slug in all_slugs(client):
            record = client.get(f"/v1/exercises/{slug}").json()
            response = client.get(f"{BASE}/ActivityDefinition/{slug}")
            resource = parsed(response, "ActivityDefinition")
            assert resource["id"] == slug
            assert resource["url"] == f"{CANONICAL}/ActivityDefinition/{slug}"
            assert resource["version"] == resource["meta"]["versionId"] == str(record["version"])
            assert response.headers["etag"] == f'W/"{record["version"]}"'
            assert resource["title"] == record["name"]
            assert len(resource["dosage"]) == len(record["dosages"])
            assert [site["coding"][0]["code"] for site in resource["bodySite"]] == record[
                "target_areas"
            ]
            artifacts = resource["relatedArtifact"]
            citations = [a for a in artifacts if a["type"] == "citation"]
            assert len(citations) == len(record["citations"])
            pictures = [a for a in artifacts if a["type"] == "documentation"]
            assert [a["label"] for a in pictures] == [i["frame"] for i in record["illustrations"]]
            for picture, illustration in zip(pictures, record["illustrations"], strict=True):
                assert picture["document"]["contentType"] == "image/png"
                assert picture["document"]["url"].endswith(illustration["png_url"])
                assert picture["document"]["url"].startswith("http")
                assert picture["display"] == illustration["alt"]
            for step in record["steps"]:
                assert step in resource["usage"]
            for caution in record["cautions"]:
                assert caution in resource["usage"]
            flags = [
                extension["extension"][0]["valueCoding"]["code"]
                for extension in resource.get("extension", [])
            ]
            assert flags == [item["flag"] for item in record["contraindications"]]

    def test_dosage_carries_reps_holds_and_ranges(self, client: TestClient) -> None:
        resource = client.get(f"{BASE}/ActivityDefinition/quadruped-leg-extension").json()
        doses = {
            dose["type"]["coding"][0]["code"]: dose
            for dosage in resource["dosage"]
            for dose in dosage.get("doseAndRate", [])
        }
        hold = doses["hold"]
        assert hold["doseRange"]["low"]["code"] == "s"
        assert hold["doseRange"]["low"]["value"] < hold["doseRange"]["high"]["value"]

    def test_if_none_match_answers_304_in_either_form(self, client: TestClient) -> None:
        url = f"{BASE}/ActivityDefinition/cat-stretch"
        etag = client.get(url).headers["etag"]
        assert etag.startswith('W/"')
        for sent in (etag, etag.removeprefix("W/"), f'"x", {etag}', "*"):
            response = client.get(url, headers={"If-None-Match": sent})
            assert response.status_code == 304, sent
            assert response.headers["etag"] == etag
            assert response.content == b""
        assert client.get(url, headers={"If-None-Match": 'W/"0"'}).status_code == 200

    def test_unknown_id_is_a_404_outcome(self, client: TestClient) -> None:
        issues = outcome(client.get(f"{BASE}/ActivityDefinition/no-such-exercise"), 404)
        assert issues[0]["code"] == "not-found"


class TestSearch:
    def test_pages_follow_next_links_through_every_exercise(self, client: TestClient) -> None:
        slugs = all_slugs(client)
        seen: list[str] = []
        url: str | None = f"{BASE}/ActivityDefinition?_count=10"
        while url:
            bundle = parsed(client.get(url), "Bundle")
            assert bundle["type"] == "searchset"
            assert bundle["total"] == len(slugs)
            assert len(bundle.get("entry", [])) <= 10
            seen += entry_ids(bundle)
            url = next_link(bundle)
        assert seen == sorted(slugs)

    def test_a_next_link_reused_with_another_search_is_refused(self, client: TestClient) -> None:
        bundle = parsed(client.get(f"{BASE}/ActivityDefinition?topic=stretch&_count=2"), "Bundle")
        url = next_link(bundle)
        assert url
        cursor = url.split("_cursor=")[1].split("&")[0]
        issues = outcome(client.get(f"{BASE}/ActivityDefinition?_count=2&_cursor={cursor}"), 400)
        assert "_cursor" in issues[0]["diagnostics"]
        parsed(client.get(url.replace("_count=2", "_count=5")), "Bundle")

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        count=st.integers(min_value=1, max_value=30),
        topic=st.sampled_from(["", "stretch", "beginner", "supine"]),
    )
    def test_any_page_size_sees_each_match_once(
        self, client: TestClient, count: int, topic: str
    ) -> None:
        query = f"topic={topic}&" if topic else ""
        everything = entry_ids(search(client, f"?{query}_count=100"))
        seen: list[str] = []
        url: str | None = f"{BASE}/ActivityDefinition?{query}_count={count}"
        while url:
            bundle = parsed(client.get(url), "Bundle")
            assert bundle["total"] == len(everything)
            seen += entry_ids(bundle)
            url = next_link(bundle)
        assert seen == everything

    def test_default_page_is_20_and_count_zero_gives_the_total_only(
        self, client: TestClient
    ) -> None:
        total = len(all_slugs(client))
        assert len(search(client)["entry"]) == min(20, total)
        empty = search(client, "?_count=0")
        assert empty["total"] == total
        assert "entry" not in empty
        assert len(search(client, "?_count=500").get("entry", [])) == min(100, total)

    def test_id_alternatives_and_repeats(self, client: TestClient) -> None:
        assert entry_ids(search(client, "?_id=cat-stretch")) == ["cat-stretch"]
        assert entry_ids(search(client, "?_id=heel-slides,cat-stretch,nope")) == [
            "cat-stretch",
            "heel-slides",
        ]
        assert entry_ids(search(client, "?_id=cat-stretch,heel-slides&_id=heel-slides")) == [
            "heel-slides"
        ]
        assert search(client, "?_id=nope")["total"] == 0

    def test_name_is_a_case_insensitive_prefix_of_the_computable_name(
        self, client: TestClient
    ) -> None:
        ids = entry_ids(search(client, "?name=single"))
        assert ids == ["single-knee-to-chest"]
        assert entry_ids(search(client, "?name=SINGLEKNEE")) == ids
        assert "straight-leg-raise" in entry_ids(search(client, "?name=straight,single"))

    def test_topic_by_code_or_system_and_code(self, client: TestClient) -> None:
        stretches = [
            slug
            for slug in all_slugs(client)
            if client.get(f"/v1/exercises/{slug}").json()["category"] == "stretch"
        ]
        assert entry_ids(search(client, "?topic=stretch&_count=100")) == sorted(stretches)
        system = f"{CANONICAL}/CodeSystem/exercise-category"
        assert entry_ids(search(client, f"?topic={system}|stretch&_count=100")) == sorted(stretches)
        other_system = f"{CANONICAL}/CodeSystem/level"
        assert search(client, f"?topic={other_system}|stretch")["total"] == 0
        both = entry_ids(search(client, "?topic=stretch&topic=beginner&_count=100"))
        assert set(both) <= set(stretches)
        total = len(all_slugs(client))
        assert search(client, f"?topic={system}|")["total"] == total
        assert search(client, "?topic=https://elsewhere.example/CodeSystem/x|")["total"] == 0

    def test_status_tokens_with_their_system(self, client: TestClient) -> None:
        total = len(all_slugs(client))
        system = "http://hl7.org/fhir/publication-status"
        assert search(client, f"?status={system}|active")["total"] == total
        assert search(client, f"?status={system}|")["total"] == total
        assert search(client, f"?status={system}|retired")["total"] == 0
        assert search(client, "?status=https://elsewhere.example|active")["total"] == 0

    def test_name_ignores_accents_and_case(self, client: TestClient) -> None:
        plain = entry_ids(search(client, "?name=cat&_count=100"))
        assert plain
        assert entry_ids(search(client, "?name=C%C3%A4T&_count=100")) == plain

    def test_self_lists_what_was_used_with_the_capped_count(self, client: TestClient) -> None:
        bundle = search(client, "?name=cat&_count=1000&utm_source=x&_=1")
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"] == f"http://testserver{BASE}/ActivityDefinition?name=cat&_count=100"

    def test_summary_count_total_and_elements(self, client: TestClient) -> None:
        total = len(all_slugs(client))
        counted = search(client, "?_summary=count")
        assert counted["total"] == total
        assert "entry" not in counted
        assert "total" not in search(client, "?_total=none")
        assert search(client, "?_total=accurate")["total"] == total
        subset = search(client, "?_elements=title,version&_count=3")
        for entry in subset["entry"]:
            resource = entry["resource"]
            assert set(resource) == {"resourceType", "id", "meta", "status", "title", "version"}
            assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"

    def test_lenient_handling_ignores_and_says_so(self, client: TestClient) -> None:
        lenient = {"Prefer": "handling=lenient"}
        response = client.get(
            f"{BASE}/ActivityDefinition?_sort=name&name:exact=Cat&_count=2", headers=lenient
        )
        bundle = parsed(response, "Bundle")
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"] == f"http://testserver{BASE}/ActivityDefinition?_count=2"
        *matches, last = bundle["entry"]
        assert len(matches) == 2
        assert last["search"]["mode"] == "outcome"
        (issue,) = last["resource"]["issue"]
        assert issue["severity"] == "warning"
        assert "_sort" in issue["diagnostics"]
        assert "name:exact" in issue["diagnostics"]
        assert parsed(
            client.get(f"{BASE}/metadata?_pretty=true", headers=lenient), "CapabilityStatement"
        )
        outcome(client.get(f"{BASE}/ActivityDefinition?_sort=name"), 400)

    def test_last_updated_meta_header_and_search(self, fresh_client: TestClient) -> None:
        client = fresh_client
        response = client.get(f"{BASE}/ActivityDefinition/cat-stretch")
        resource = parsed(response, "ActivityDefinition")
        updated = resource["meta"]["lastUpdated"]
        assert updated.endswith("Z")
        assert response.headers["last-modified"].endswith("GMT")
        day = updated[:10]
        total = len(all_slugs(client))
        assert search(client, f"?_lastUpdated={day}")["total"] == total
        assert search(client, f"?_lastUpdated=ge{day}&_lastUpdated=lt{day}")["total"] == 0
        assert search(client, f"?_lastUpdated=gt{updated}&_id=cat-stretch")["total"] == 0
        assert search(client, "?_lastUpdated=lt2000-01-01")["total"] == 0
        outcome(client.get(f"{BASE}/ActivityDefinition?_lastUpdated=yesterday"), 400)

    def test_url_with_and_without_version(self, client: TestClient) -> None:
        url = f"{CANONICAL}/ActivityDefinition/cat-stretch"
        version = client.get(f"{BASE}/ActivityDefinition/cat-stretch").json()["version"]
        assert entry_ids(search(client, f"?url={url}")) == ["cat-stretch"]
        assert entry_ids(search(client, f"?url={url}|{version}")) == ["cat-stretch"]
        assert search(client, f"?url={url}|999")["total"] == 0
        assert (
            search(client, "?url=https://elsewhere.example/ActivityDefinition/cat-stretch")["total"]
            == 0
        )

    def test_status(self, client: TestClient) -> None:
        total = len(all_slugs(client))
        assert search(client, "?status=active")["total"] == total
        assert search(client, "?status=draft,retired")["total"] == 0


class TestStrictHandling:
    @pytest.mark.parametrize(
        "query", ["?saftey_for=x", "?name:exact=Cat", "?_sort=name", "?_summary=true"]
    )
    def test_unsupported_parameters_are_named(self, client: TestClient, query: str) -> None:
        name = query[1:].split("=")[0]
        issues = outcome(client.get(f"{BASE}/ActivityDefinition{query}"), 400)
        assert issues[0]["code"] == "not-supported"
        assert name in issues[0]["diagnostics"]

    def test_unknown_parameters_on_reads_too(self, client: TestClient) -> None:
        issues = outcome(client.get(f"{BASE}/metadata?mode=terminology"), 400)
        assert "mode" in issues[0]["diagnostics"]

    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("?_count=-1", "_count"),
            ("?_count=ten", "_count"),
            ("?_count=1&_count=2", "_count"),
            ("?status=published", "status"),
            ("?name=", "name"),
            ("?_id=a,,b", "_id"),
            ("?_cursor=forged", "_cursor"),
        ],
    )
    def test_invalid_values_are_400(self, client: TestClient, query: str, parameter: str) -> None:
        issues = outcome(client.get(f"{BASE}/ActivityDefinition{query}"), 400)
        assert issues[0]["code"] == "invalid"
        assert parameter in issues[0]["diagnostics"]

    def test_formats(self, client: TestClient) -> None:
        for accepted in (
            "json",
            "application/json",
            "application/fhir+json",
            "application/fhir%2Bjson",
        ):
            parsed(client.get(f"{BASE}/metadata?_format={accepted}"), "CapabilityStatement")
        parsed(
            client.get(f"{BASE}/metadata", headers={"Accept": "application/fhir+json"}),
            "CapabilityStatement",
        )
        outcome(client.get(f"{BASE}/metadata?_format=xml"), 406)
        outcome(client.get(f"{BASE}/metadata", headers={"Accept": "application/fhir+xml"}), 406)

    def test_unknown_paths_and_methods_are_outcomes(self, client: TestClient) -> None:
        assert outcome(client.get(f"{BASE}/Patient/1"), 404)[0]["code"] == "not-found"
        assert outcome(client.post(f"{BASE}/ActivityDefinition", json={}), 405)[0]["code"] == (
            "not-supported"
        )
        assert outcome(client.get(f"{BASE}/ActivityDefinition/{'x' * 65}"), 400)[0]["code"] == (
            "invalid"
        )
        assert outcome(client.get(f"{BASE}/PlanDefinition/a_b"), 400)[0]["code"] == "invalid"

    @pytest.mark.parametrize(
        ("method", "path", "status", "named"),
        [
            ("GET", "/ActivityDefinition/_history", 400, "history on the type ActivityDefinition"),
            ("GET", "/_history", 400, "history on the whole system"),
            ("GET", "/PlanDefinition/x/_history", 400, "history on PlanDefinition"),
            ("POST", "", 400, "batch/transaction"),
            ("POST", "/", 400, "batch/transaction"),
            ("GET", "/ValueSet/level/$expand", 400, "$expand"),
            ("GET", "/ValueSet/$expand", 400, "$expand"),
            ("POST", "/ActivityDefinition/_search", 400, "search by POST"),
            ("GET", "/PlanDefinition", 400, "search on PlanDefinition"),
            ("PUT", "/ActivityDefinition/cat-stretch", 405, "update"),
            ("DELETE", "/PlanDefinition/x", 405, "delete"),
            ("POST", "/ActivityDefinition", 405, "create"),
        ],
    )
    def test_unsupported_interactions_are_named(
        self, client: TestClient, method: str, path: str, status: int, named: str
    ) -> None:
        response = client.request(method, f"{BASE}{path}", json={} if method != "GET" else None)
        (issue,) = outcome(response, status)
        assert issue["code"] == "not-supported"
        assert named in issue["diagnostics"]

    def test_a_deleted_routine_is_deleted(self, fresh_client: TestClient) -> None:
        routine = fresh_client.post("/v1/routines", json={}).json()
        deleted = fresh_client.delete(
            f"/v1/routines/{routine['id']}",
            headers={"Authorization": f"Bearer {routine['delete_token']}"},
        )
        assert deleted.status_code == 204
        (issue,) = outcome(fresh_client.get(f"{BASE}/PlanDefinition/{routine['id']}"), 410)
        assert issue["code"] == "deleted"

    def test_the_json_api_keeps_problem_json(self, client: TestClient) -> None:
        response = client.get("/v1/exercises?saftey_for=x")
        assert response.headers["content-type"] == "application/problem+json"


class TestPlanDefinition:
    def test_routines_map_block_by_block_and_every_canonical_resolves(
        self, client: TestClient
    ) -> None:
        blocks_seen: set[str] = set()
        tailored.clear()
        for profile in PROFILES:
            routine = client.post("/v1/routines", json=profile).json()
            blocks_seen |= {block["name"] for block in routine["blocks"]}
            response = client.get(f"{BASE}/PlanDefinition/{routine['id']}")
            plan = parsed(response, "PlanDefinition")
            assert response.headers["etag"] == 'W/"1"'
            assert plan["url"] == f"{CANONICAL}/PlanDefinition/{routine['id']}"
            for note in routine["safety_notes"]:
                assert note in plan["usage"]
            if routine["outcome"] == "refer":
                assert_is_a_referral(plan, routine)
                continue
            groups = plan["action"]
            if routine["referral"]:
                referral, *groups = groups
                assert referral["id"] == "referral"
                assert referral["description"] == routine["referral"]["advice"]
                assert "requiredBehavior" not in referral
            assert [group["title"] for group in groups] == [b["title"] for b in routine["blocks"]]
            for group, block in zip(groups, routine["blocks"], strict=True):
                assert group["code"][0]["coding"][0]["code"] == block["name"]
                assert group["timingDuration"]["value"] == sum(
                    item["estimated_seconds"] for item in block["items"]
                )
                assert len(group["action"]) == len(block["items"])
                frequency = routine["frequency"]
                aerobic = block["name"] == "aerobic"
                times, unit = (
                    (frequency["aerobic_times_per_week"], "wk")
                    if aerobic
                    else (frequency["times_per_day"], "d")
                )
                if aerobic:
                    assert group["description"] == frequency["aerobic"]
                for action, item in zip(group["action"], block["items"], strict=True):
                    assert_resolves(client, given_canonical(plan, action), item["exercise"])
                    assert_dose_is_computable(plan, action, item)
                    timing = action["timingTiming"]
                    repeat = timing["repeat"]
                    assert repeat["frequency"] == times
                    assert repeat["periodUnit"] == unit
                    if aerobic:
                        assert repeat["frequencyMax"] == 4
                        assert (repeat["duration"], repeat["durationUnit"]) == (
                            item["duration_minutes"],
                            "min",
                        )
                        assert timing["code"]["text"] == (
                            f"Keep going for {item['duration_minutes']} minutes, 3 to 4 times "
                            "a week."
                        )
                    else:
                        assert timing["code"]["text"] == frequency["routine"]
                        assert "frequencyMax" not in repeat
                    (condition,) = action["condition"]
                    assert condition["kind"] == "stop"
                    assert condition["expression"]["language"] == "text/fhirpath"
                    assert condition["expression"]["description"] in routine["safety_notes"]
        assert "aerobic" in blocks_seen
        assert tailored, "some routine tailors a dose"

    def test_an_earlier_routine_resolves_every_canonical_after_its_exercises_change(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        """Edit every exercise a routine gave (one twice, one retired): each canonical of its
        PlanDefinition still finds, by `url|version` search and by vread, the exercise exactly
        as the routine holds it, and the history lists every version."""
        editor = {"Authorization": f"Bearer {make_key(fresh_database_url, 'ed', Role.editor)}"}
        routine = fresh_client.post("/v1/routines", json={"minutes": 30}).json()
        given = {
            item["exercise"]["slug"]: item["exercise"]
            for block in routine["blocks"]
            for item in block["items"]
        }
        slugs = sorted(given)
        for slug in slugs:
            edit(fresh_client, editor, slug, {"summary": f"Edited {slug}."})
        edit(fresh_client, editor, slugs[0], {"summary": "Edited again."})
        retired = fresh_client.delete(
            f"/v1/exercises/{slugs[1]}",
            headers={
                **editor,
                "If-Match": fresh_client.get(f"/v1/exercises/{slugs[1]}").headers["etag"],
            },
        )
        assert retired.status_code in (200, 204), retired.text
        plan = parsed(fresh_client.get(f"{BASE}/PlanDefinition/{routine['id']}"), "PlanDefinition")
        canonicals = [
            given_canonical(plan, action)
            for group in plan["action"]
            for action in group.get("action", [])
        ]
        assert len(canonicals) == sum(len(block["items"]) for block in routine["blocks"])
        for canonical in canonicals:
            url, version = canonical.split("|")
            slug = url.rsplit("/", 1)[1]
            exercise = given[slug]
            assert version == str(exercise["version"])
            (found,) = search(fresh_client, f"?url={canonical}")["entry"]
            assert_is_the_given_exercise(found["resource"], exercise)
            response = fresh_client.get(f"{BASE}/ActivityDefinition/{slug}/_history/{version}")
            assert response.headers["etag"] == f'W/"{version}"'
            assert_is_the_given_exercise(parsed(response, "ActivityDefinition"), exercise)
            detail = fresh_client.get(f"/v1/exercises/{slug}/versions/{version}")
            assert detail.status_code == 200
            assert detail.json()["summary"] == exercise["summary"]
        history = parsed(
            fresh_client.get(f"{BASE}/ActivityDefinition/{slugs[0]}/_history"), "Bundle"
        )
        assert history["type"] == "history"
        versions = [entry["resource"]["meta"]["versionId"] for entry in history["entry"]]
        first = given[slugs[0]]["version"]
        assert versions == [str(n) for n in range(first + 2, 0, -1)]
        assert [e["request"]["method"] for e in history["entry"]][-1] == "POST"
        retired_history = parsed(
            fresh_client.get(f"{BASE}/ActivityDefinition/{slugs[1]}/_history"), "Bundle"
        )
        assert retired_history["entry"][0]["resource"]["status"] == "retired"
        outcome(fresh_client.get(f"{BASE}/ActivityDefinition/{slugs[1]}"), 404)
        current = parsed(
            fresh_client.get(f"{BASE}/ActivityDefinition/{slugs[0]}"), "ActivityDefinition"
        )
        assert current["description"] == "Edited again."
        listed = fresh_client.get(f"/v1/exercises/{slugs[0]}/versions").json()
        assert [item["version"] for item in listed["items"]] == list(range(1, first + 3))

    def test_unknown_versions_are_404(self, client: TestClient) -> None:
        for version in ("999", "0", "x", "1.5"):
            outcome(client.get(f"{BASE}/ActivityDefinition/cat-stretch/_history/{version}"), 404)
        outcome(client.get(f"{BASE}/ActivityDefinition/no-such-exercise/_history"), 404)
        bundle = search(client, f"?url={CANONICAL}/ActivityDefinition/cat-stretch|999")
        assert bundle["total"] == 0

    def test_unknown_routine_is_404(self, client: TestClient) -> None:
        outcome(client.get(f"{BASE}/PlanDefinition/00000000-0000-0000-0000-000000000000"), 404)


def assert_is_a_referral(plan: dict[str, Any], routine: dict[str, Any]) -> None:
    (action,) = plan["action"]
    assert "definitionCanonical" not in action
    assert "action" not in action
    assert action["description"] == routine["referral"]["advice"]
    assert action["priority"] == "stat"
    flagged = [reason["coding"][0]["code"] for reason in action["reason"]]
    assert flagged == [flag["id"] for flag in routine["referral"]["red_flags"]]


tailored: list[str] = []
"""The actions seen whose dose is carried by a contained definition."""


def given_canonical(plan: dict[str, Any], action: dict[str, Any]) -> str:
    """The published `url|version` an exercise action stands for: its definition, or the one
    its contained (tailored) definition is derived from, which its documentation also names."""
    (documented,) = action["documentation"]
    assert documented["type"] == "derived-from"
    definition: str = action["definitionCanonical"]
    if definition.startswith("#"):
        contained = {resource["id"]: resource for resource in plan["contained"]}
        (derived,) = contained[definition[1:]]["relatedArtifact"]
        assert derived["type"] == "derived-from"
        definition = derived["resource"]
    assert definition == documented["resource"]
    return definition


def assert_dose_is_computable(
    plan: dict[str, Any], action: dict[str, Any], item: dict[str, Any]
) -> None:
    """A tailored dose is a contained definition whose structured dosage is the routine's; an
    untailored one is the cited dosage of the definition it names."""
    cited = item["exercise"]["dosage"]
    definition = action["definitionCanonical"]
    if not definition.startswith("#"):
        assert (cited["sets"] or 1, cited["reps"] or 1, cited["per_side"]) == (
            item["sets"],
            item["reps"] or 1,
            item["per_side"],
        )
        low, high = cited["hold_seconds"], cited["hold_seconds_max"] or cited["hold_seconds"]
        assert item["hold_seconds"] == low or low <= item["hold_seconds"] <= high
        assert item["duration_minutes"] == cited["duration_minutes"]
        return
    tailored.append(definition)
    contained = {resource["id"]: resource for resource in plan["contained"]}
    (dosage,) = contained[definition[1:]]["dosage"]
    assert dosage["text"] == action["textEquivalent"]
    assert dosage["timing"] == action["timingTiming"]
    doses = {
        dose["type"]["coding"][0]["code"]: dose["doseQuantity"]["value"]
        for dose in dosage.get("doseAndRate", [])
    }
    expected = {"sets": item["sets"]}
    if item["reps"]:
        expected["repetitions-each-side" if item["per_side"] else "repetitions"] = item["reps"]
    if item["hold_seconds"]:
        expected["hold"] = item["hold_seconds"]
    if item["sets"] > 1 and item["rest_seconds"]:
        expected["rest-between-sets"] = item["rest_seconds"]
    assert doses == expected


def edit(client: TestClient, editor: dict[str, str], slug: str, patch: dict[str, Any]) -> None:
    etag = client.get(f"/v1/admin/exercises/{slug}", headers=editor).headers["etag"]
    edited = client.patch(f"/v1/exercises/{slug}", json=patch, headers={**editor, "If-Match": etag})
    assert edited.status_code == 200, edited.text


def assert_is_the_given_exercise(resource: dict[str, Any], exercise: dict[str, Any]) -> None:
    assert resource["id"] == exercise["slug"]
    assert resource["version"] == resource["meta"]["versionId"] == str(exercise["version"])
    assert resource["description"] == exercise["summary"]
    assert resource["title"] == exercise["name"]


def assert_resolves(client: TestClient, canonical: str, exercise: dict[str, Any]) -> None:
    url, version = canonical.split("|")
    assert url == f"{CANONICAL}/ActivityDefinition/{exercise['slug']}"
    assert version == str(exercise["version"])
    bundle = search(client, f"?url={canonical}")
    (found,) = bundle["entry"]
    assert found["resource"]["url"] == url
    assert found["resource"]["version"] == version


class TestQuestionnaireAndTerminology:
    def test_red_flag_questionnaire_asks_each_flag(self, client: TestClient) -> None:
        response = client.get(f"{BASE}/Questionnaire/red-flags")
        questionnaire = parsed(response, "Questionnaire")
        assert response.headers["etag"] == f'W/"{questionnaire["meta"]["versionId"]}"'
        items = questionnaire["item"]
        assert [item["linkId"] for item in items] == [flag.id.value for flag in RED_FLAGS]
        for item, flag in zip(items, RED_FLAGS, strict=True):
            assert item["type"] == "boolean"
            assert item["text"] == flag.question
            codes = {coding["system"].rsplit("/", 1)[1]: coding["code"] for coding in item["code"]}
            assert codes == {"red-flag": flag.id.value, "referral-urgency": flag.urgency.value}
            assert item["item"][0]["text"] == flag.advice
        outcome(client.get(f"{BASE}/Questionnaire/other"), 404)

    def test_every_vocabulary_is_a_code_system_and_a_value_set(self, client: TestClient) -> None:
        for vocabulary in VOCABULARIES:
            system = parsed(client.get(f"{BASE}/CodeSystem/{vocabulary.id}"), "CodeSystem")
            assert system["url"] == f"{CANONICAL}/CodeSystem/{vocabulary.id}"
            assert [c["code"] for c in system["concept"]] == [t.value for t in vocabulary.terms]
            assert system["count"] == len(vocabulary.terms)
            value_set = parsed(client.get(f"{BASE}/ValueSet/{vocabulary.id}"), "ValueSet")
            assert value_set["compose"]["include"][0]["system"] == system["url"]
            assert system["valueSet"] == value_set["url"]
        outcome(client.get(f"{BASE}/CodeSystem/nope"), 404)
        outcome(client.get(f"{BASE}/ValueSet/nope"), 404)

    def test_every_code_used_is_in_its_code_system(self, client: TestClient) -> None:
        systems = {
            f"{CANONICAL}/CodeSystem/{v.id}": {t.value for t in v.terms} for v in VOCABULARIES
        }
        resources = [
            client.get(f"{BASE}/ActivityDefinition/{slug}").json() for slug in all_slugs(client)
        ]
        resources.append(client.get(f"{BASE}/Questionnaire/red-flags").json())
        for profile in PROFILES:
            routine = client.post("/v1/routines", json=profile).json()
            resources.append(client.get(f"{BASE}/PlanDefinition/{routine['id']}").json())
        for coding in codings(resources):
            if coding["system"].startswith(CANONICAL):
                assert coding["code"] in systems[coding["system"]], coding


def codings(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            found.append(value)
        for item in value.values():
            found += codings(item)
    elif isinstance(value, list):
        for item in value:
            found += codings(item)
    return found


class TestCapabilityStatement:
    def test_names_exactly_what_is_served(self, client: TestClient) -> None:
        response = client.get(f"{BASE}/metadata")
        statement = parsed(response, "CapabilityStatement")
        assert statement["fhirVersion"] == "4.0.1"
        assert statement["format"] == ["json"]
        (rest,) = statement["rest"]
        served = {resource["type"]: resource for resource in rest["resource"]}
        assert set(served) == {
            "ActivityDefinition",
            "CapabilityStatement",
            "PlanDefinition",
            "Questionnaire",
            "CodeSystem",
            "OperationDefinition",
            "StructureDefinition",
            "ValueSet",
            "QuestionnaireResponse",
            "Observation",
        }
        searched = [p["name"] for p in served["ActivityDefinition"]["searchParam"]]
        assert searched == [parameter.name for parameter in SEARCH_PARAMETERS] + ["_lastUpdated"]
        for name in searched[:-1]:
            assert client.get(f"{BASE}/ActivityDefinition?{name}=active").status_code == 200
        operations = {
            (resource_type, operation["name"])
            for resource_type, resource in served.items()
            for operation in resource.get("operation", [])
        }
        assert operations == {("PlanDefinition", "apply"), ("Questionnaire", "evaluate")}
        for resource in served.values():
            for operation in resource.get("operation", []):
                if operation["definition"].startswith(CANONICAL):
                    at = client.get(operation["definition"].replace(CANONICAL, BASE))
                    definition = parsed(at, "OperationDefinition")
                    assert definition["url"] == operation["definition"]
                    assert definition["code"] == operation["name"]
        for resource_type, resource in served.items():
            interactions = {i["code"] for i in resource["interaction"]}
            assert interactions <= {"read", "vread", "history-instance", "search-type"}
            if "search-type" not in interactions:
                assert client.get(f"{BASE}/{resource_type}").status_code in (400, 404, 405)

    def test_is_served_at_its_own_url(self, client: TestClient) -> None:
        statement = parsed(client.get(f"{BASE}/metadata"), "CapabilityStatement")
        assert statement["url"] == f"{CANONICAL}/CapabilityStatement/backcare"
        at_url = client.get(f"{BASE}/CapabilityStatement/backcare")
        assert parsed(at_url, "CapabilityStatement") == statement
        outcome(client.get(f"{BASE}/CapabilityStatement/other"), 404)

    def test_every_extension_used_is_defined_at_its_url(self, client: TestClient) -> None:
        """Every extension url in every exercise resolves to a StructureDefinition of an
        Extension whose sub-extensions are exactly the ones used."""
        used: dict[str, set[str]] = {}
        for slug in all_slugs(client):
            resource = client.get(f"{BASE}/ActivityDefinition/{slug}").json()
            for extension in resource.get("extension", []):
                parts = {part["url"] for part in extension["extension"]}
                used.setdefault(extension["url"], set()).update(parts)
        assert used
        for url, parts in used.items():
            assert url.startswith(f"{CANONICAL}/StructureDefinition/")
            response = client.get(url.replace(CANONICAL, BASE))
            definition = parsed(response, "StructureDefinition")
            assert definition["url"] == url
            assert definition["type"] == "Extension"
            assert definition["context"] == [
                {"type": "element", "expression": "ActivityDefinition"}
            ]
            slices = {
                element["sliceName"]
                for element in definition["differential"]["element"]
                if "sliceName" in element
            }
            assert slices == parts
        outcome(client.get(f"{BASE}/StructureDefinition/unknown"), 404)

    def test_openapi_declares_the_facade(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert {path for path in paths if path.startswith(BASE)} == {
            f"{BASE}/metadata",
            f"{BASE}/ActivityDefinition",
            f"{BASE}/ActivityDefinition/{{resource_id}}",
            f"{BASE}/ActivityDefinition/{{resource_id}}/_history",
            f"{BASE}/ActivityDefinition/{{resource_id}}/_history/{{version_id}}",
            f"{BASE}/CapabilityStatement/{{resource_id}}",
            f"{BASE}/StructureDefinition/{{resource_id}}",
            f"{BASE}/OperationDefinition/{{resource_id}}",
            f"{BASE}/PlanDefinition/{{resource_id}}",
            f"{BASE}/Questionnaire/{{resource_id}}",
            f"{BASE}/CodeSystem/{{resource_id}}",
            f"{BASE}/ValueSet/{{resource_id}}",
            f"{BASE}/PlanDefinition/{{resource_id}}/$apply",
            f"{BASE}/Questionnaire/red-flags/$evaluate",
            f"{BASE}/QuestionnaireResponse",
            f"{BASE}/QuestionnaireResponse/{{resource_id}}",
            f"{BASE}/Observation",
            f"{BASE}/Observation/{{resource_id}}",
        }


class TestWhatTheClinicDoesNext:
    def test_apply_gives_a_care_plan_for_the_subject_and_stores_nothing(
        self, client: TestClient
    ) -> None:
        for profile in PROFILES:
            routine = client.post("/v1/routines", json=profile).json()
            plan = client.get(f"{BASE}/PlanDefinition/{routine['id']}").json()
            path = f"{BASE}/PlanDefinition/{routine['id']}/$apply"
            by_get = parsed(client.get(path, params={"subject": "Patient/p-1"}), "CarePlan")
            body = {
                "resourceType": "Parameters",
                "parameter": [{"name": "subject", "valueString": "Patient/p-1"}],
            }
            by_post = client.post(path, json=body, headers={"Content-Type": FHIR})
            assert parsed(by_post, "CarePlan") == by_get
            assert by_get["subject"] == {"reference": "Patient/p-1"}
            assert by_get["instantiatesCanonical"] == [plan["url"]]
            assert (by_get["status"], by_get["intent"]) == ("draft", "proposal")
            actions = [
                action
                for group in plan.get("action", [])
                for action in group.get("action", [group])
            ]
            activities = [activity["detail"] for activity in by_get["activity"]]
            assert len(activities) == len(actions)
            contained = {resource["id"] for resource in by_get.get("contained", [])}
            for detail, action in zip(activities, actions, strict=True):
                assert detail.get("instantiatesCanonical") == (
                    [action["definitionCanonical"]] if "definitionCanonical" in action else None
                )
                for canonical in detail.get("instantiatesCanonical", []):
                    assert not canonical.startswith("#") or canonical[1:] in contained
            unnamed = parsed(client.get(path), "CarePlan")
            assert "reference" not in unnamed["subject"]
        assert client.get(f"{BASE}/PlanDefinition/{routine['id']}").json() == plan

    @pytest.mark.parametrize(
        "query", ["subject=nobody", "subject=Patient/1&subject=Patient/2", "subject=Practitioner/1"]
    )
    def test_apply_refuses_a_subject_that_is_not_a_patient(
        self, client: TestClient, query: str
    ) -> None:
        routine = client.post("/v1/routines", json={}).json()
        issues = outcome(client.get(f"{BASE}/PlanDefinition/{routine['id']}/$apply?{query}"), 400)
        assert issues[0]["code"] == "invalid"

    def test_feedback_is_a_questionnaire_response_and_two_pain_observations(
        self, fresh_client: TestClient
    ) -> None:
        client = fresh_client
        routine = client.post("/v1/routines", json={}).json()
        routine_id = routine["id"]
        empty = parsed(
            client.get(f"{BASE}/Observation?focus=PlanDefinition/{routine_id}"), "Bundle"
        )
        assert empty["total"] == 0
        outcome(client.get(f"{BASE}/QuestionnaireResponse/{routine_id}"), 404)
        answers = {
            "pain_before": 5,
            "pain_after": 3,
            "completed": True,
            "difficulty": "right",
            "new_leg_symptoms": False,
        }
        given = client.post(
            f"/v1/routines/{routine_id}/feedback",
            json=answers,
            headers={"Authorization": f"Bearer {routine['delete_token']}"},
        )
        assert given.status_code == 201, given.text
        questionnaire = parsed(
            client.get(f"{BASE}/Questionnaire/session-feedback"), "Questionnaire"
        )
        asked = {item["linkId"]: item for item in questionnaire["item"]}
        response = parsed(
            client.get(f"{BASE}/QuestionnaireResponse/{routine_id}"), "QuestionnaireResponse"
        )
        assert response["questionnaire"] == questionnaire["url"]
        assert response["identifier"]["value"] == routine_id
        for item in response["item"]:
            assert item["linkId"] in asked
            assert item["text"] == asked[item["linkId"]]["text"]
        recorded = {item["linkId"]: item["answer"][0] for item in response["item"]}
        assert recorded["pain_before"] == {"valueInteger": 5}
        assert recorded["difficulty"]["valueCoding"]["code"] == "right"
        searched = parsed(
            client.get(f"{BASE}/QuestionnaireResponse?identifier={routine_id}&utm_source=x"),
            "Bundle",
        )
        assert [entry["resource"] for entry in searched["entry"]] == [response]
        assert searched["link"][0]["url"] == (
            f"http://testserver{BASE}/QuestionnaireResponse?identifier={routine_id}"
        )
        bundle = parsed(
            client.get(f"{BASE}/Observation?focus=PlanDefinition/{routine_id}"), "Bundle"
        )
        ratings = {
            entry["resource"]["code"]["coding"][0]["code"]: entry["resource"]
            for entry in bundle["entry"]
        }
        assert {code: obs["valueInteger"] for code, obs in ratings.items()} == {
            "pain-before-session": 5,
            "pain-after-session": 3,
        }
        for observation in ratings.values():
            assert observation["focus"] == [{"reference": f"PlanDefinition/{routine_id}"}]
            read = client.get(f"{BASE}/Observation/{observation['id']}")
            assert parsed(read, "Observation") == observation
            assert "private" in read.headers["cache-control"]
            system = observation["code"]["coding"][0]["system"]
            code_system = client.get(system.replace(CANONICAL, BASE)).json()
            assert observation["code"]["coding"][0]["code"] in {
                concept["code"] for concept in code_system["concept"]
            }

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.lists(st.sampled_from([flag.id.value for flag in RED_FLAGS]), unique=True))
    def test_red_flag_evaluation_decides_as_the_json_api(
        self, client: TestClient, flags: list[str]
    ) -> None:
        answered = {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": f"{CANONICAL}/Questionnaire/red-flags",
            "status": "completed",
            "item": [
                {"linkId": flag.id.value, "answer": [{"valueBoolean": flag.id.value in flags}]}
                for flag in RED_FLAGS
            ],
        }
        evaluated = parsed(
            client.post(
                f"{BASE}/Questionnaire/red-flags/$evaluate",
                json=answered,
                headers={"Content-Type": FHIR},
            ),
            "Parameters",
        )
        values = {}
        red_flags = []
        for parameter in evaluated["parameter"]:
            if parameter["name"] == "redFlag":
                red_flags.append(parameter["valueCoding"]["code"])
            else:
                values[parameter["name"]] = parameter
        routine = client.post("/v1/routines", json={"red_flags": flags}).json()
        assert values["outcome"]["valueCode"] == routine["outcome"]
        if routine["referral"]:
            assert values["urgency"]["valueCoding"]["code"] == routine["referral"]["urgency"]
            assert values["advice"]["valueString"] == routine["referral"]["advice"]
            assert red_flags == [flag["id"] for flag in routine["referral"]["red_flags"]]
        else:
            assert set(values) == {"outcome"}

    def test_a_screening_that_is_not_one_is_400(self, client: TestClient) -> None:
        for body in (
            {"resourceType": "Patient"},
            {"resourceType": "QuestionnaireResponse", "questionnaire": "elsewhere"},
            {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": f"{CANONICAL}/Questionnaire/red-flags",
                "item": [{"linkId": "fever", "answer": [{"valueString": "yes"}]}],
            },
        ):
            response = client.post(
                f"{BASE}/Questionnaire/red-flags/$evaluate",
                json=body,
                headers={"Content-Type": FHIR},
            )
            outcome(response, 400)


def test_the_contract_gives_every_served_resource_its_schema(client: TestClient) -> None:
    """Each resource type served has a component schema naming what a client reads (`action`
    and its `definitionCanonical`, `dosage`, `relatedArtifact`), each FHIR answer names its
    schema, and a served element the contract does not name fails the check `parsed` makes."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    resource_types = [
        schema["properties"]["resourceType"]
        for schema in schemas.values()
        if "resourceType" in schema.get("properties", {})
    ]
    described = {kind.get("const") or kind["enum"][0] for kind in resource_types}
    assert SERVED_TYPES | {"Bundle", "CarePlan", "Parameters", "OperationOutcome"} <= described
    plan = schemas["PlanDefinition"]["properties"]
    assert "relatedArtifact" in plan
    exercise_action = plan["action"]["items"]["properties"]["action"]["items"]["properties"]
    assert "definitionCanonical" in exercise_action
    assert {"dosage", "relatedArtifact"} <= set(schemas["ActivityDefinition"]["properties"])
    for path, operations in document["paths"].items():
        for operation in operations.values() if path.startswith(BASE) else ():
            schema = operation["responses"]["200"]["content"]["application/fhir+json"]["schema"]
            assert schema["$ref"].rsplit("/", 1)[1] in schemas, path

    served = client.get(f"{BASE}/ActivityDefinition/cat-stretch")
    assert_declared(served)
    unnamed = {**served.json(), "approvalDate": "2026-12-08"}
    headers = {"content-type": served.headers["content-type"]}
    altered = type(served)(200, headers=headers, json=unnamed, request=served.request)
    with pytest.raises(AssertionError, match="approvalDate"):
        assert_declared(altered)


def test_a_body_over_the_limit_is_a_413_outcome_naming_the_request(client: TestClient) -> None:
    """Refused before the app reads it, yet answered as FHIR: an OperationOutcome, never a
    problem document, carrying the client's request id."""
    response = client.post(
        f"{BASE}/Questionnaire/red-flags/$evaluate",
        content=b'{"resourceType": "QuestionnaireResponse", "x": "' + b"a" * 1_100_000 + b'"}',
        headers={"Content-Type": FHIR, "X-Request-ID": "fhir-body-too-large"},
    )
    issues = outcome(response, 413)
    assert issues[0]["code"] == "too-long"
    assert issues[0]["diagnostics"].endswith(" request_id=fhir-body-too-large")
