"""Whose fact it is: an assistant's sentences never become, or replace, the user's facts, and
an assistant echoing the user ranks below the user's own words."""

from __future__ import annotations

from memgrid import Memory


def test_an_assistants_first_person_sentence_is_not_the_users_fact(mem: Memory) -> None:
    mem.add([{"role": "user", "content": "I live in Lyon and I work at Acme."},
             {"role": "assistant", "content": "Nice! I work at OpenAI and I live in San Francisco."}],
            user_id="dana")
    profile = mem.profile(user_id="dana")
    assert {k: r.fact_value for k, r in profile.items()} == {"self|residence": "lyon"}


def test_an_assistant_echo_of_an_old_value_does_not_supersede_the_new_one(mem: Memory) -> None:
    mem.add("I live in Lyon", user_id="dana", timestamp="2024-01-01")
    moved = mem.add("Actually I moved to Berlin last month", user_id="dana", timestamp="2024-03-01")[0]
    mem.add([{"role": "assistant", "content": "Since you live in Lyon, I live in Lyon too, try the market."}],
            user_id="dana", timestamp="2024-03-02")
    assert mem.get(moved.id).superseded_by is None
    assert mem.profile(user_id="dana")["self|residence"].fact_value == "berlin"


def test_the_users_statement_ranks_above_an_assistant_echo(mem: Memory) -> None:
    mem.add([{"role": "user", "content": "I adopted a greyhound called Pixel"},
             {"role": "assistant", "content": "A greyhound called Pixel! Greyhounds like Pixel love naps."},
             {"role": "user", "content": "we went hiking on Saturday"}], user_id="dana")
    # the echo holds more of the query's words than the statement it repeats
    hits = mem.search("greyhounds love naps, Pixel the greyhound", user_id="dana", limit=3)
    roles = [h.memory.role for h in hits if "Pixel" in h.memory.text]
    assert roles == ["user", "assistant"]
    assert "echo" in hits[1].explain
