"""A user's short answer to the assistant's question about them states the asked fact; an
answer to a question about a trip, a plan, the past or someone else states nothing."""

from __future__ import annotations

import pytest

from memgrid import Memory
from memgrid.write.answers import answered, asked_of_listener


@pytest.mark.parametrize(("question", "attribute"), [
    ("Good to hear from you! Where are you living these days?", "residence"),
    ("Who do you report to these days?", "manager"),
    ("Who's your GP now?", "doctor"),  # an abbreviation is no one else
    ("Any pets?", "pet"),  # elliptic: the listener's
    ("Are you still vegetarian?", "diet"),  # a value of the attribute named
    ("Who's your mentor at work?", "mentor"),  # a setting asks for no employer
    ("Are you still based in Lyon?", "residence"),  # a value named is no one else
    ("Quick check before I book: are you still living in Austin?", "residence"),  # the asker's "I"
    ("What email should I use for you now?", "email"),  # the asker's plan, not the listener's
    ("So where's home now?", "residence"),  # no one named, the present asked
    ("Which days do you work out now?", "gym day"),  # "work" inside "work out" is no employer
])
def test_a_question_to_the_listener_asks_one_attribute(question: str, attribute: str) -> None:
    assert asked_of_listener(question) == attribute


@pytest.mark.parametrize("question", [
    "Where are you heading this weekend?",  # a trip
    "Where did you live before?",  # the past
    "Where does your sister live?",  # someone else
    "Where would you like to live someday?",  # a plan
    "Where do you and Tom live now?",  # someone else named
    "Who's the new hire on your team?",  # a person asked for, no sports team
    "What do you think of Lisbon?",  # no attribute
    "Where do I live now?",  # the user's own question is not put to the user
])
def test_questions_about_no_standing_fact_of_the_listener(question: str) -> None:
    assert asked_of_listener(question) is None


def test_a_named_current_value_says_what_is_asked() -> None:
    assert asked_of_listener("Still at Vandelay?", {"employer": "vandelay"}) == "employer"
    assert asked_of_listener("Do you still see Dr. Ivo?", {"doctor": "ivo"}) == "doctor"
    assert asked_of_listener("Still at Vandelay?", {}) is None
    assert asked_of_listener("Still a Lakers fan?", {"team": "lakers"}) == "team"
    # the question's own words say what it asks; a held value of another attribute does not
    assert asked_of_listener("Dr. Lena is your doctor, right?", {"partner": "lena"}) is None


@pytest.mark.parametrize(("attribute", "answer", "value"), [
    ("residence", "Galway, since March.", "galway"),
    ("residence", "Nope, Berlin now!", "berlin"),
    ("employer", "Nope! Globex as of last week.", "globex"),  # an interjection on its own first
    ("employer", "at Hooli, on the search team", "hooli"),
    ("pet", "Two cats, Miso and Tofu.", "miso"),
    ("number of kids", "Three! The twins arrived in May.", "3"),
    ("job title", "Head of research.", "head of research"),
    ("phone", "A Pixel 8, love it.", "pixel 8"),
    ("email", "dana@post.example", "dana@post.example"),
    ("residence", "Not anymore, Austin since May.", "austin"),  # not the old one
    ("partner", "No, I'm with Lena now.", "lena"),
    ("partner", "We split. I'm with Rafael now.", "rafael"),  # the second clause, after none
    ("employer", "Not since May - Stripe now.", "stripe"),
])
def test_a_short_answer_leads_with_the_value(attribute: str, answer: str, value: str) -> None:
    assert answered(attribute, answer) == value


@pytest.mark.parametrize(("attribute", "answer"), [
    ("residence", "Yeah, Paris was amazing though."),  # a remark about a place
    ("residence", "Somewhere rainy, haha."),  # a capital only because it opens the sentence
    ("manager", "Dunno yet."),
    ("employer", "Nowhere, between jobs."),
    ("residence", "Home, finally!"),  # a state, not a name
    ("partner", "Single again."),
    ("residence", "The usual. Work, sleep, repeat."),
    ("partner", "Dave, it's awesome seeing people happy thanks to you!"),  # the one spoken to
    ("residence", "Why do you ask?"),
    ("residence", "I'd rather not say."),
    ("residence", "Haha, long story. Tell you later."),
    ("manager", "Thanks, Priya!"),  # someone addressed
    ("residence", "Well, it's complicated, we have been going back and forth between Leeds and York."),
])
def test_no_value_in_an_answer_that_gives_none(attribute: str, answer: str) -> None:
    assert answered(attribute, answer) is None


def test_an_answer_in_the_next_add_of_a_chat_loop_supersedes_the_old_value(mem: Memory) -> None:
    lyon = mem.add("I live in Lyon.", user_id="dana", timestamp="2024-01-01T10:00:00")[0]
    mem.add([{"role": "user", "content": "Hi again!"},
             {"role": "assistant", "content": "Hi Dana! Where are you living these days?"}],
            user_id="dana", timestamp="2024-06-01T10:00:00")
    answer = mem.add("Galway, since March.", user_id="dana", timestamp="2024-06-01T10:01:00")[0]
    assert answer.supersedes == lyon.id
    assert mem.profile(user_id="dana")["self|residence"].fact_value == "galway"
    hits = mem.search("Where do I live now?", user_id="dana", limit=1, reference_time="2024-06-02")
    assert hits[0].memory.id == answer.id


def test_an_answer_within_one_batch_and_a_named_value(mem: Memory) -> None:
    mem.add("I work at Vandelay.", user_id="dana", timestamp="2024-01-01T10:00:00")
    records = mem.add([{"role": "assistant", "content": "Still at Vandelay?"},
                       {"role": "user", "content": "Nope - Deloitte now."}],
                      user_id="dana", timestamp="2024-06-01T10:00:00")
    assert records[1].supersedes is not None
    assert mem.profile(user_id="dana")["self|employer"].fact_value == "deloitte"


def test_answers_that_state_nothing_change_nothing(mem: Memory) -> None:
    mem.add("I live in Lyon.", user_id="dana", timestamp="2024-01-01T10:00:00")
    mem.add([{"role": "assistant", "content": "Where are you heading this weekend?"},
             {"role": "user", "content": "Porto, for a wedding."},
             {"role": "user", "content": "Where do you live, by the way?"},  # the user asks
             {"role": "user", "content": "Leeds."},
             {"role": "assistant", "content": "Where do you live now?"},
             {"role": "user", "content": "Somewhere rainy, haha."}],
            user_id="dana", timestamp="2024-06-01T10:00:00")
    # a question asked the day before is no longer what a reply answers
    mem.add([{"role": "assistant", "content": "Where do you live now?"}], user_id="dana",
            timestamp="2024-06-02T10:00:00")
    mem.add("Madrid.", user_id="dana", timestamp="2024-06-03T10:00:00")
    assert mem.profile(user_id="dana")["self|residence"].fact_value == "lyon"
    assert not [r for r in mem.export(user_id="dana") if r.supersedes]
