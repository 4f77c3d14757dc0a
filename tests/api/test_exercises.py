"""The exercise list, one exercise and progression chains, through HTTP."""

import itertools
from typing import Annotated, Any

import pytest
from contract_validation import parameters_of
from fastapi import APIRouter, Query, Request
from fastapi.testclient import TestClient

from app.api.exercises import ExerciseFilters
from app.api.query_model import openapi_parameters
from app.api.routing import StrictQueryRoute
from app.core.settings import Settings
from app.domain.vocabulary import Flag, Level, SpinalMotion
from app.main import create_app

PROBLEM = "application/problem+json"


def all_items(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Walk every page, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        response = client.get(
            "/v1/exercises", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return items
        assert response.headers["link"].endswith('; rel="next"')
    raise AssertionError("pagination did not end")


def slugs(items: list[dict[str, Any]]) -> list[str]:
    return [item["slug"] for item in items]


def test_walking_all_pages_returns_every_exercise_once(
    client: TestClient, seed_exercise_count: int
) -> None:
    everything = all_items(client, limit=100)
    paged = all_items(client, limit=4)
    assert slugs(paged) == slugs(everything)
    assert len(set(slugs(paged))) == len(paged) == seed_exercise_count
    assert slugs(paged) == sorted(slugs(paged))


def test_link_header_leads_to_the_next_page(client: TestClient) -> None:
    first = client.get("/v1/exercises", params={"limit": 2, "category": "stretch"})
    link = first.headers["link"]
    url = link[1 : link.index(">")]
    second = client.get(url)
    assert second.status_code == 200
    assert second.json()["items"][0]["slug"] > first.json()["items"][-1]["slug"]
    assert all(item["category"] == "stretch" for item in second.json()["items"])


def test_list_items_carry_the_published_fields(client: TestClient) -> None:
    item = client.get("/v1/exercises", params={"limit": 1}).json()["items"][0]
    assert set(item) == {
        "slug",
        "name",
        "aliases",
        "summary",
        "category",
        "level",
        "position",
        "spinal_motion",
        "target_areas",
        "equipment",
        "contraindications",
        "bed_friendly",
        "needs_helper",
        "illustrations",
    }


@pytest.mark.parametrize("flag", list(Flag))
def test_safe_for_never_returns_a_contraindicated_exercise(client: TestClient, flag: Flag) -> None:
    items = all_items(client, safe_for=flag.value)
    assert items
    for item in items:
        assert flag.value not in {c["flag"] for c in item["contraindications"]}
    left_out = set(slugs(all_items(client))) - set(slugs(items))
    for slug in left_out:
        detail = client.get(f"/v1/exercises/{slug}").json()
        assert flag.value in {c["flag"] for c in detail["contraindications"]}


def test_safe_for_repeated_leaves_out_both_directions(client: TestClient) -> None:
    items = all_items(client, safe_for=["flexion_sensitive", "extension_sensitive"])
    motions = {item["spinal_motion"] for item in items}
    assert SpinalMotion.flexion not in motions
    assert SpinalMotion.extension not in motions


def test_repeated_parameter_means_any_of_its_values(client: TestClient) -> None:
    prone = set(slugs(all_items(client, position="prone")))
    standing = set(slugs(all_items(client, position="standing")))
    both = set(slugs(all_items(client, position=["prone", "standing"])))
    assert prone
    assert standing
    assert both == prone | standing


def test_different_parameters_all_apply(client: TestClient) -> None:
    items = all_items(
        client, category="stretch", target_area="hamstrings", max_level="intermediate"
    )
    assert items
    for item in items:
        assert item["category"] == "stretch"
        assert "hamstrings" in item["target_areas"]
        assert item["level"] != "advanced"


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"target_area": "hamstrings"}, lambda i: "hamstrings" in i["target_areas"]),
        ({"category": "aerobic"}, lambda i: i["category"] == "aerobic"),
        ({"position": "supine"}, lambda i: i["position"] == "supine"),
        ({"level": "advanced"}, lambda i: i["level"] == "advanced"),
        ({"max_level": "intermediate"}, lambda i: i["level"] != "advanced"),
        ({"spinal_motion": "rotation"}, lambda i: i["spinal_motion"] == "rotation"),
        ({"bed_friendly": "true"}, lambda i: i["bed_friendly"]),
        ({"bed_friendly": "false"}, lambda i: not i["bed_friendly"]),
        ({"needs_helper": "true"}, lambda i: i["needs_helper"]),
        ({"available_equipment": ""}, lambda i: i["equipment"] == []),
        ({"available_equipment": "wall"}, lambda i: set(i["equipment"]) <= {"wall"}),
    ],
)
def test_each_filter(
    client: TestClient, params: dict[str, str], check: Any, seed_exercise_count: int
) -> None:
    items = all_items(client, **params)
    assert items, params
    assert all(check(item) for item in items)
    assert len(items) < seed_exercise_count or params == {"max_level": "intermediate"}


def test_equipment_filter_finds_what_uses_it(client: TestClient) -> None:
    assert slugs(all_items(client, equipment="wall")) == ["wall-squat"]
    assert "water-exercise" in slugs(all_items(client, equipment="flotation_device"))
    assert "bed-edge-hip-flexor-stretch" in slugs(all_items(client, equipment="bed"))


def test_available_equipment_needs_nothing_beyond(client: TestClient) -> None:
    without = set(slugs(all_items(client, available_equipment="")))
    with_wall = set(slugs(all_items(client, available_equipment="wall")))
    assert with_wall - without == {"wall-squat"}


def test_none_and_empty_both_say_no_equipment(client: TestClient) -> None:
    """`none` is what a generated client can send (an empty list leaves its URL)."""
    for limit in (3, 100):
        named = client.get("/v1/exercises", params={"available_equipment": "none", "limit": limit})
        empty = client.get("/v1/exercises", params={"available_equipment": "", "limit": limit})
        assert named.status_code == empty.status_code == 200
        assert named.json()["items"] == empty.json()["items"]
    everything = all_items(client, available_equipment="none")
    assert slugs(everything) == slugs(all_items(client, available_equipment=""))
    assert everything
    assert all(item["equipment"] == [] for item in everything)
    assert {"water-exercise", "swimming"}.isdisjoint(slugs(everything)), "never a pool exercise"
    assert "pool" not in {e for item in everything for e in item["equipment"]}
    beside = all_items(client, available_equipment=["none", "wall"])
    assert slugs(beside) == slugs(all_items(client, available_equipment="wall"))


def test_the_contract_names_none_for_no_equipment(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/exercises"]["get"]
    parameters = parameters_of(document, operation)
    (parameter,) = [p for p in parameters if p["name"] == "available_equipment"]
    (array,) = [option for option in parameter["schema"]["anyOf"] if option.get("type") == "array"]
    assert {"const": "none", "type": "string"} in array["items"]["anyOf"]


@pytest.mark.parametrize("text", ["HIP ROLLS", "hip rolls", "knee to chest", "Rotation"])
def test_q_searches_name_aliases_and_summary(client: TestClient, text: str) -> None:
    items = all_items(client, q=text)
    assert items
    for item in items:
        haystack = " ".join([item["name"], *item["aliases"], item["summary"]]).casefold()
        assert text.casefold() in haystack


def test_hip_rolls_and_rotation_stretch_are_one_exercise(client: TestClient) -> None:
    assert slugs(all_items(client, q="hip rolls")) == slugs(all_items(client, q="rotation stretch"))


def test_max_level_orders_levels(client: TestClient) -> None:
    for level in Level:
        items = all_items(client, max_level=level.value)
        assert all(Level(item["level"]).rank <= level.rank for item in items)


def test_detail_has_the_whole_record(client: TestClient) -> None:
    detail = client.get("/v1/exercises/single-knee-to-chest").json()
    assert detail["slug"] == "single-knee-to-chest"
    assert detail["version"] >= 1
    assert len(detail["steps"]) >= 2
    assert {d["source"] for d in detail["dosages"]} == {
        "aaos-back-pain-exercises",
        "what-stretch-relieves-lower-back-pain",
    }
    citation = detail["citations"][0]
    assert set(citation) >= {"source", "title", "publisher_kind", "seed_file"}
    assert citation["seed_file"].endswith(".txt")
    assert "double-knee-to-chest" in detail["progressions"]["harder"]


def test_progression_chain_runs_easiest_to_hardest(client: TestClient) -> None:
    for slug in slugs(all_items(client)):
        body = client.get(f"/v1/exercises/{slug}/progressions").json()
        chain = slugs(body["items"])
        assert slug in chain
        ranks = [Level(item["level"]).rank for item in body["items"]]
        assert ranks == sorted(ranks)
        for earlier, later in itertools.pairwise(chain):
            earlier_detail = client.get(f"/v1/exercises/{later}").json()
            assert earlier not in earlier_detail["progressions"]["harder"]


def test_knee_to_chest_chain(client: TestClient) -> None:
    chain = slugs(client.get("/v1/exercises/double-knee-to-chest/progressions").json()["items"])
    assert chain.index("single-knee-to-chest") < chain.index("double-knee-to-chest")


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if field is not None:
        assert field in [error["field"].split(".")[0] for error in body["errors"]], body
    text = response.text.lower()
    assert "traceback" not in text
    assert "select " not in text
    return body


@pytest.mark.parametrize(
    "path", ["/v1/exercises/no-such-thing", "/v1/exercises/x/progressions", "/v1/nothing"]
)
def test_not_found_is_a_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"safe_for": "banana"}, "safe_for"),
        ({"level": "superhuman"}, "level"),
        ({"max_level": "superhuman"}, "max_level"),
        ({"target_area": "elbow"}, "target_area"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"bed_friendly": "perhaps"}, "bed_friendly"),
        ({"q": ""}, "q"),
    ],
)
def test_bad_values_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    assert_problem(client.get("/v1/exercises", params=params), 422, field)


@pytest.mark.parametrize(
    ("cursor", "status"),
    [
        ("forged", 400),
        ("e30", 400),
        ("eyJhZnRlciI6IDF9", 400),
        ("eyJhZnRlciI6ImNhdC1zdHJldGNoIn0", 400),  # the unsigned cursors of old: {"after": slug}
        ("!!!!", 422),
        ("a" * 500, 422),
    ],
)
def test_forged_cursor_is_refused(client: TestClient, cursor: str, status: int) -> None:
    assert_problem(client.get("/v1/exercises", params={"cursor": cursor}), status, "cursor")


def first_cursor(client: TestClient, **params: Any) -> str:
    cursor: str = client.get("/v1/exercises", params={"limit": 2, **params}).json()["next_cursor"]
    assert cursor
    return cursor


def test_a_tampered_cursor_is_refused(client: TestClient) -> None:
    cursor = first_cursor(client)
    payload, signature = cursor.rsplit(".", 1)
    other = first_cursor(client, category="stretch").rsplit(".", 1)[0]
    for forged in (f"{other}.{signature}", f"{payload}.{signature[::-1]}", payload):
        assert_problem(client.get("/v1/exercises", params={"cursor": forged}), 400, "cursor")


@pytest.mark.parametrize(
    "other",
    [{"category": "aerobic"}, {"safe_for": "flexion_sensitive"}, {"available_equipment": "mat"}],
)
def test_a_cursor_reused_with_other_filters_is_refused(
    client: TestClient, other: dict[str, str]
) -> None:
    cursor = first_cursor(client, category="stretch")
    params = {"category": "stretch", **other, "cursor": cursor}
    response = client.get("/v1/exercises", params=params)
    assert_problem(response, 400, "cursor")
    assert "other filters" in response.json()["detail"]


def test_a_cursor_survives_what_does_not_change_the_filters(client: TestClient) -> None:
    """The filters are compared normalised: order, repeats and spellings of one meaning."""
    cursor = first_cursor(client, safe_for=["flexion_sensitive", "extension_sensitive"])
    same: list[dict[str, Any]] = [
        {"safe_for": ["extension_sensitive", "flexion_sensitive"], "limit": 5},
        {"safe_for": ["extension_sensitive", "flexion_sensitive", "flexion_sensitive"]},
    ]
    for params in same:
        response = client.get("/v1/exercises", params={**params, "cursor": cursor})
        assert response.status_code == 200, response.text
    cursor = first_cursor(client, available_equipment="none")
    response = client.get("/v1/exercises", params={"available_equipment": "", "cursor": cursor})
    assert response.status_code == 200, response.text


def test_a_cursor_signed_with_another_secret_is_refused(database_url: str) -> None:
    """Processes that share CURSOR_SECRET accept each other's cursors; others refuse them."""
    secrets = ["s" * 32, "s" * 32, "t" * 32]
    apps = [create_app(Settings(database_url=database_url, cursor_secret=s)) for s in secrets]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as same, TestClient(apps[2]) as other:
        cursor = first_cursor(one)
        assert same.get("/v1/exercises", params={"limit": 2, "cursor": cursor}).status_code == 200
        refused = other.get("/v1/exercises", params={"limit": 2, "cursor": cursor})
        assert_problem(refused, 400, "cursor")


def test_processes_on_one_database_accept_each_others_cursors_with_nothing_set(
    fresh_database_url: str,
) -> None:
    """Behind a load balancer each page may come from another replica: with no secret set they
    all sign with the deployment's own, which the migrations made and the database keeps."""
    apps = [create_app(Settings(database_url=fresh_database_url)) for _ in range(2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as other:
        cursor = first_cursor(one)
        page = other.get("/v1/exercises", params={"limit": 2, "cursor": cursor})
        assert page.status_code == 200, page.text


@pytest.mark.parametrize("name", ["muscle", "saftey_for", "Safe_For", "page"])
def test_unknown_parameter_is_400_naming_it(client: TestClient, name: str) -> None:
    body = assert_problem(client.get("/v1/exercises", params={name: "x"}), 400, name)
    assert name in body["detail"]


@pytest.mark.parametrize("path", ["/v1/exercises/cat-stretch", "/v1/target-areas", "/v1/red-flags"])
def test_unknown_parameter_is_refused_everywhere(client: TestClient, path: str) -> None:
    assert_problem(client.get(path, params={"verbose": "1"}), 400, "verbose")


def test_method_not_allowed_is_a_problem(client: TestClient) -> None:
    assert_problem(client.delete("/v1/target-areas"), 405)


def test_a_query_parameter_declared_beside_a_hand_parsed_query_model_is_refused() -> None:
    """The list parses its whole query through ExerciseFilters; a `Query()` parameter added to its
    handler the usual way would never reach the filters, so declaring one fails at once."""
    router = APIRouter(route_class=StrictQueryRoute)

    async def listing(request: Request, extra: Annotated[str | None, Query()] = None) -> None:
        return None

    with pytest.raises(TypeError, match="add them to that model"):
        router.get("/listing", openapi_extra={"parameters": openapi_parameters(ExerciseFilters)})(
            listing
        )
