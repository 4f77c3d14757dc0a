"""One timestamp format for the whole API: RFC 3339, UTC, `Z`."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from app.domain.timestamps import UtcTimestamp, rfc3339

RFC3339_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"


def test_a_utc_moment_ends_in_z_with_microseconds() -> None:
    assert rfc3339(datetime(2026, 11, 29, 13, 28, 38, tzinfo=UTC)) == "2026-11-29T13:28:38.000000Z"
    assert rfc3339(datetime(2026, 11, 29, 13, 28, 38, 933400, tzinfo=UTC)).endswith(".933400Z")


def test_another_zone_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 11, 29, 14, 0, tzinfo=paris)) == "2026-11-29T13:00:00.000000Z"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        rfc3339(datetime(2026, 11, 29, 13, 0))


def test_strings_sort_as_the_moments_do() -> None:
    start = datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)
    moments = [start + timedelta(microseconds=step * 250_000) for step in range(8)]
    assert sorted(rfc3339(moment) for moment in moments) == [rfc3339(m) for m in moments]


def test_the_annotated_field_writes_what_the_helper_writes() -> None:
    class Stamped(BaseModel):
        at: UtcTimestamp

    moment = datetime(2026, 11, 29, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert Stamped(at=moment).model_dump(mode="json") == {"at": rfc3339(moment)}
    assert Stamped(at=moment).model_dump()["at"] == moment, "Python values stay datetimes"
    schema = Stamped.model_json_schema(mode="serialization")["properties"]["at"]
    assert (schema["type"], schema["format"]) == ("string", "date-time")
