from __future__ import annotations

import pytest

from memgrid.errors import InvalidInputError
from memgrid.validation import Filters, check_metadata, check_scope_value, check_text, parse_timestamp


@pytest.mark.parametrize("value", ["", "   ", "a\x00b", "tab\there", "x" * 300, "zero\u200bwidth"])
def test_bad_scope_values_are_rejected(value: str) -> None:
    with pytest.raises(InvalidInputError):
        check_scope_value("user_id", value)


def test_good_scope_value_passes() -> None:
    assert check_scope_value("user_id", "alice@example.com") == "alice@example.com"
    assert check_scope_value("user_id", None) is None


@pytest.mark.parametrize("text", ["", " \n\t ", None, 42, "x" * 101])
def test_bad_text_is_rejected(text: object) -> None:
    with pytest.raises(InvalidInputError):
        check_text(text, max_chars=100)


def test_timestamps_parse_to_utc_epoch() -> None:
    assert parse_timestamp("1970-01-01T00:01:00") == 60.0
    assert parse_timestamp("1970-01-01T01:00:00+01:00") == 0.0
    assert parse_timestamp("1970-01-02") == 86400.0
    assert parse_timestamp(5) == 5.0
    assert parse_timestamp(None) is None
    assert parse_timestamp(-1) == -1.0  # before 1970 is a date like any other


@pytest.mark.parametrize("value", ["yesterday", "2023-13-45", True, -10**12, 10**12, [2023]])
def test_bad_timestamps_name_the_problem(value: object) -> None:
    with pytest.raises(InvalidInputError, match="timestamp"):
        parse_timestamp(value)


def test_metadata_keys_must_be_identifiers() -> None:
    assert check_metadata({"topic": "x"}) == {"topic": "x"}
    with pytest.raises(InvalidInputError):
        check_metadata({"bad key'": 1})
    with pytest.raises(InvalidInputError):
        check_metadata(["not", "a", "dict"])


def test_filters_reject_unknown_keys_and_bad_values() -> None:
    with pytest.raises(InvalidInputError, match="allowed"):
        Filters.parse({"colour": "red"})
    with pytest.raises(InvalidInputError):
        Filters.parse({"visibility": "public"})
    with pytest.raises(InvalidInputError):
        Filters.parse({"metadata": {"k": {"nested": 1}}})
    parsed = Filters.parse({"kind": "fact", "event_after": "2023-01-01", "metadata": {"k": 1}})
    assert parsed.kinds == ("fact",) and parsed.event_after is not None and not parsed.is_empty()
