"""The zero-LLM fact detector on wordings of its own (none is a benchmark phrasing), the
statements it must leave alone, and the read side: the current value first, `as_of` the old."""

from __future__ import annotations

import pytest

from memgrid import Memory
from memgrid.read.asked import AskedFacts, asked_fact_keys, asked_facts
from memgrid.write.facts import extract_fact


@pytest.mark.parametrize(("text", "attribute", "value"), [
    ("We relocated to Porto in March.", "residence", "porto"),
    ("Big news: I joined Initrode last week.", "employer", "initrode"),
    ("Carla is my boss now.", "manager", "carla"),
    ("I'm majoring in chemistry, finally.", "major", "chemistry"),
    ("I drive a Kia Niro now.", "car", "kia niro"),
    ("Reach me at dana@example.com from today.", "email", "dana@example.com"),
    ("Got promoted to senior director!", "job title", "senior director"),
    ("My new hobby is knitting.", "hobby", "knitting"),
    ("Honestly these days I'm a Knicks fan.", "team", "knicks"),
    ("Switched clinics, Dr. Osei is my GP.", "doctor", "osei"),
    ("I left Acme and joined Globex in May.", "employer", "globex"),
    ("I'm vegetarian.", "diet", "vegetarian"),  # the plain first statement, to be superseded later
    ("I'm a paramedic.", "job title", "paramedic"),
    ("They promoted me to charge nurse last week.", "job title", "charge nurse"),
    ("Please use ola@fresh.example from now on.", "email", "ola@fresh.example"),  # no "I"
    ("New number: 555-0123.", "phone number", "555-0123"),
    ("I've just been promoted to Senior Manager at Initech!", "job title", "senior manager"),
    ("Rosa and I got engaged over the weekend!", "partner", "rosa"),  # the name before "and I"
    ("Squash is my sport these days.", "hobby", "squash"),
    ("My therapist is Dr. Lund now.", "therapist", "lund"),  # not the doctor
    ("Our new landlord is Mr. Okafor.", "landlord", "okafor"),  # no "Mr" for a name
    ("Gym is Thursdays now.", "gym day", "thursday"),  # no subject, led by the attribute
    ("New GP since March: Dr. Moreau.", "doctor", "moreau"),
    ("I accepted an offer from Stripe and start in May.", "employer", "stripe"),
    ("I gave up pottery for painting.", "hobby", "painting"),  # not the one given up
    ("After the move, Porto is our home now.", "residence", "porto"),  # the second mention counts
    ("I'm seeing a new counsellor, Marta.", "therapist", "marta"),  # a role's holder, not addressed
    ("We have one kid, a boy.", "number of kids", "1"),
    ("I've been going out with Noor since spring.", "partner", "noor"),
    ("I've switched to supporting Boca Juniors.", "team", "boca juniors"),
    ("Mirela has been my mentor since the spring.", "mentor", "mirela"),  # the name leads, "my X since"
    ("Okan is my boss as of Monday.", "manager", "okan"),
    ("Jules and I are together again.", "partner", "jules"),
    ("Training days are Tuesdays at the moment.", "gym day", "tuesday"),  # led by the routine
    ("All my spare time goes to kayaking lately.", "hobby", "kayaking"),
    ("Nothing tops a bowl of pho for me.", "favourite food", "pho"),
    ("My football team is Celtic, always was.", "team", "celtic"),
    # words a lexicon of one word per attribute misses: a thesaurus of each
    ("My handset these days is a Galaxy S24.", "phone", "galaxy s24"),
    ("Got the keys to my Honda Jazz on Friday.", "car", "honda jazz"),
    ("My inbox is lee@post.example now.", "email", "lee@post.example"),
    ("My take-home is $3,900 a month.", "income", "$3,900"),
    ("Since June I answer to Greta.", "manager", "greta"),
    ("My other half is Ines.", "partner", "ines"),
    ("Ines moved in with me in March.", "partner", "ines"),  # not a move of house
    ("I've become a proper Saints supporter.", "team", "saints"),
    ("My role changed to team lead in May.", "job title", "team lead"),
    ("We moved to Bath to be near my parents.", "residence", "bath"),  # the parents are no subject
    ("I start at Leeds University in September, transferring for my masters.", "school", "leeds university"),
    ("The new car is a Honda Jazz, I love it.", "car", "honda jazz"),  # no "I": a new one of one's own
    ("My new passion is sailing.", "hobby", "sailing"),  # a value of a known kind said to be new
    ("They bumped me up to team lead.", "job title", "team lead"),
    ("We adopted a kitten named Olive last weekend.", "pet", "olive"),  # a weekend is no pet-sit
    # values past the first lists: a demanding user's hobbies, instruments, subjects and jobs
    ("I took up fencing in the autumn.", "hobby", "fencing"),
    ("I'm learning the bassoon now.", "instrument", "bassoon"),
    ("I switched my major to epidemiology.", "major", "epidemiology"),
    ("I'm now a claims officer.", "job title", "claims officer"),
    ("I'm flexitarian these days.", "diet", "flexitarian"),
    ("My favourite food is bibimbap now.", "favourite food", "bibimbap"),  # not "bibimbap now"
    # "I'm now a ..." is a job only if it ends in one
    ("I'm now a vegan.", "diet", "vegan"),
    ("I'm now a Raiders fan.", "team", "raiders"),
    ("I'm now a head of research at Hooli.", "job title", "head of research"),
    # an ending, a comma, then what holds now: the second part is read alone
    ("I stopped drinking milk, I'm dairy-free now.", "diet", "dairy-free"),
    ("I support Sporting Lisbon these days.", "team", "sporting lisbon"),
    ("I've been seeing Inaya since the summer.", "partner", "inaya"),
    ("I've been seeing Dr. Hale about my knee.", "doctor", "hale"),  # a doctor seen, not a partner
    # the old one left
    ("We have a new landlord, Mr. Ruiz, since the old one sold up and left.", "landlord", "ruiz"),
    ("The tabby kitten called Poppy is mine now.", "pet", "poppy"),  # "mine" is the speaker
    ("Studying at Queen's University since the transfer.", "school", "queen's university"),
    ("Practising the harp most evenings now.", "instrument", "harp"),  # "I'm" dropped
    ("I fell for Idris over the summer.", "partner", "idris"),
    ("I get around in a Mini Cooper now.", "car", "mini cooper"),
    ("Bought a Bruins jersey, I follow the Bruins now.", "team", "bruins"),  # a jersey is no car
    # chat turns: the change one clause among others
    ("Crazy month. We're Brighton people now, the sea air is great.", "residence", "brighton"),
    ("Nantes is home now.", "residence", "nantes"),  # said of the place
    ("I'm part of the Wayfair crew now.", "employer", "wayfair"),
    ("They made me charge nurse on Monday!", "job title", "charge nurse"),
    ("Petra took over as my manager last month.", "manager", "petra"),  # "my manager last": no act of hers
    ("I've gone vegetarian since the new year.", "diet", "vegetarian"),
    ("My GP suggested it, so I'm low-carb now.", "diet", "low-carb"),  # someone else's clause, then mine
    ("I'm a Mariners fan now, don't laugh.", "team", "mariners"),  # an aside, not a negation
    ("New year, new inbox. I changed my email. It's ren@post.example now.", "email", "ren@post.example"),
    # terse texting and formal registers
    ("Packers fan now, fight me", "team", "packers"),  # a line that names no one, said to hold now
    ("three kids now, pray for us", "number of kids", "3"),
    ("gym Saturdays now", "gym day", "saturday"),
    ("new doc, Dr. Lamb, so much better", "doctor", "lamb"),
    ("I am now in a relationship with Odile.", "partner", "odile"),
    ("I am now the owner of a Skoda Octavia.", "car", "skoda octavia"),
    ("My records have been transferred to Dr. Baptiste.", "doctor", "baptiste"),  # no school
    ("My allegiance is with the Bears now.", "team", "bears"),
    # what chat wraps around a statement: a tag question, a discourse marker, "'s" for "is"
    ("I live in Cork now, what about you?", "residence", "cork"),
    ("I work at Zalando now, can you believe it?", "employer", "zalando"),
    ("Anyway, Rui and I are engaged now!", "partner", "rui"),
    ("Bea's my manager now, you met her, right?", "manager", "bea"),
    ("We have a kitten now, Miso, want a photo?", "pet", "miso"),  # the name after its animal
    ("Since March my boss has been Anouk.", "manager", "anouk"),  # "has been": no act of the boss's
    ("I've been keto since the summer.", "diet", "keto"),
    ("I switched to the cello and never looked back.", "instrument", "cello"),  # an idiom, no negation
    ("We're in Malmo now, the flat is tiny.", "residence", "malmo"),
    ("currently living in Ghent", "residence", "ghent"),  # "currently" opens a line without its "I"
    ("Currently working as a sous chef.", "job title", "sous chef"),
    ("As of Monday I'm a Zendesk employee.", "employer", "zendesk"),
    ("I've been admitted to Bocconi and started this term.", "school", "bocconi"),
    ("We adopted a kitten! Her name is Tilly.", "pet", "tilly"),  # the name in the next sentence
    ("I'M DATING Noor NOW!!!", "partner", "noor"),  # shouting read in lower case
    ("I used to live in Leeds, but now I live in Hull.", "residence", "hull"),  # "but now" splits
    ("I've been going to the gym on Fridays lately.", "gym day", "friday"),  # a habit, not a plan
    ("I've discovered ramen; it's my new favourite.", "favourite food", "ramen"),
    ("I now have three children.", "number of kids", "3"),  # the key of "kids", not "children"
    # a last clause said to the listener: an offer, a wish, a hedge
    ("I'm based in Tartu now, shout if you're ever passing through.", "residence", "tartu"),
    ("My new number is 0161 555 0144, in case you need it.", "phone number", "0161 555 0144"),
    ("We went pescatarian - hope that doesn't sound mad.", "diet", "pescatarian"),
    ("Been based in Bristol since spring.", "residence", "bristol"),  # "been" with its "I've" dropped
    # a change that names the value it replaces: the other one is the new value
    ("Switched my number from 555-0110 to 555-0123.", "phone number", "555-0123"),
    ("We went from one child to two children.", "number of kids", "2"),
    ("My salary went from $4,100 to $4,800 a month.", "income", "$4,800"),
    ("Gym moved from Tuesdays to Fridays.", "gym day", "friday"),
    ("Income: $6,000 -> $6,800 a month", "income", "$6,800"),
    ("Dropped crochet and took up archery.", "hobby", "archery"),
    ("no longer pescatarian; fully vegan these days", "diet", "vegan"),
    ("major: chemistry now (was physics)", "major", "chemistry"),
    ("three kids now \U0001F648", "number of kids", "3"),  # an emoji is no word of the line
    # a value no vocabulary has, in a slot that names the attribute
    ("I've taken up falconry this spring.", "hobby", "falconry"),
    ("My new hobby is metal detecting.", "hobby", "metal detecting"),
    ("I switched my major to museum studies.", "major", "museum studies"),
])
def test_statements_of_a_users_standing_facts(text: str, attribute: str, value: str) -> None:
    fact = extract_fact(text, "self")
    assert fact is not None and (fact.key, fact.value) == (f"self|{attribute}", value)


@pytest.mark.parametrize("text", [
    "My sister just joined Deloitte.",  # someone else
    "We spent a weekend in Porto for a wedding.",  # a one-off
    "Should I move to Porto?",  # a question
    "If I moved to Porto I'd learn Portuguese.",  # a hypothetical
    "I no longer work at Acme.",  # a negation names the old value
    "My husband took up knitting.",  # a partner doing something
    "Since I lost my job at Vandelay, things have been tough.",  # the old value, ended
    "I'm baking a vegan cake for the party.",  # a diet word, not "I'm vegan"
    "I'm a pilot at heart, I love airports.",  # an idiom, not a job
    "Email support@shop.example for a refund.",  # someone else's address
    "New email for the choir list: choir@club.example.",  # not the speaker's own
    "My work is inspired by Shirley Franco's work.",  # a possessor, not an employer
    "We dog-sat a greyhound called Juno for the weekend.",  # someone else's pet, minded
    "In my new role I report to the Regional Director.",  # a title, not a manager's name
    "I'm running late now, sorry!",  # this minute, not a hobby
    "We're swimming now at the lake with the kids.",
    "Rosa and Tom got engaged over the weekend!",  # someone else's engagement
    "My landlord's number is 555-0199.",  # someone else's number
    "The gym is closed on Thursdays.",  # about the gym, not a routine
    "My therapist said I'm doing better.",  # the therapist doing something
    "I am currently employed, working in the finance industry.",  # not a major said to be new
    "I gave up painting.",  # the old value, ended
    "I got a great offer from Verizon on a new plan.",  # not a job offer
    "Call the clinic, new number: 555-0199.",  # the clinic's number
    "My rental car for the trip is a Fiat Panda.",  # a car for a week, not one's own
    "My team at work is Platform.",  # a work team, not a club
    "My boss as usual forgot the meeting.",  # the boss doing something
    "My cousin is a Saints supporter.",  # someone else
    "I helped my brother move to Leeds.",  # his move
    "We're minding a puppy called Rex for the weekend.",  # someone else's pet, for two days
    "The new car my dad bought is a Honda Jazz.",  # his car
    "I'm now a dad of two.",  # no job
    "I'm now a homeowner!",
    "My nephew has taken up fencing.",  # someone else's hobby
    "Playing guitar in a band is the best feeling.",  # what anyone does, not the speaker's habit
    "Living in Leeds must be expensive.",
    "I took up the offer right away.",  # a slot's idiom, no value
    "We took up residence in a tiny flat.",
    "My major is undecided for now.",
    "I won the local Chess Masters tournament.",  # "local" before a name is no residence
    "I love my new phone. It's so fast.",  # "it" is no value
    "My sister moved to Leeds, so I'm visiting her now.",  # a visit
    "Hard work pays off in the end.",  # a capitalised first word is no employer
    "his team Arsenal now, not mine",  # a terse line that names someone else
    "Are we moving to Leeds, or what?",  # still a question without its tag
    "Do you live in Porto now, Tom?",
    "Priya's dog lives in Lisbon now.",  # Priya's: a possessor, not "Priya is"
    "My sister got a kitten. Her name is Tilly.",  # the sentence before is someone else's
    "I'm going to move to Leeds next year.",  # a plan
    "If you ever move to Leeds, let me know.",  # the hypothetical is the statement itself
    "Would you move to Porto, if you could?",  # still a question
    "Flew from Oslo to Bergen for a wedding.",  # a trip
    "Left Nimbus for lunch with Ines.",  # an outing, no successor
])
def test_statements_that_change_nothing(text: str) -> None:
    assert extract_fact(text, "self") is None


def test_a_second_hobby_joins_the_first_unless_said_to_replace_it(mem: Memory) -> None:
    """People play several instruments at once: a new one is the newest answer to "what do I
    play now?", but it closes the old one only where the words say it replaces it."""
    [piano] = mem.add("I play the piano in a band.", user_id="u", timestamp="2023-01-01")
    [cello] = mem.add("I started playing the cello years ago.", user_id="u", timestamp="2023-02-01")
    assert (piano.fact_key, cello.fact_key) == ("self|instrument", "self|instrument")
    assert mem.get(piano.id).superseded_by is None
    hits = mem.search("What instrument do I play now?", user_id="u", limit=2, reference_time="2023-03-01")
    assert hits[0].memory.id == cello.id
    [drums] = mem.add("Switched from cello to drums now.", user_id="u", timestamp="2023-04-01")
    assert drums.fact_value == "drums" and mem.get(cello.id).superseded_by == drums.id
    # "also" keeps the old one; the one of the present ("these days") replaces it
    [oboe] = mem.add("I also play the oboe now, besides the drums.", user_id="u", timestamp="2023-05-01")
    assert oboe.fact_key == "self|instrument" and mem.get(drums.id).superseded_by is None
    [harp] = mem.add("These days I play the harp.", user_id="u", timestamp="2023-06-01")
    assert mem.get(oboe.id).superseded_by == harp.id
    [max_] = mem.add("Our dog is named Max.", user_id="w", timestamp="2023-01-01")
    [luna] = mem.add("Sadly Max passed away, and we adopted a puppy named Luna.", user_id="w",
                     timestamp="2023-03-01")
    assert mem.get(max_.id).superseded_by == luna.id  # a pet that died is not a current one
    [paella] = mem.add("My favourite food is paella.", user_id="f", timestamp="2023-01-01")
    [tapas] = mem.add("These days nothing beats tapas for me.", user_id="f", timestamp="2023-02-01")
    assert mem.get(paella.id).superseded_by == tapas.id  # a superlative: the one favourite
    [moment] = mem.add("My hobby is chess.", user_id="v", timestamp="2023-01-01")
    mem.add("I'm running late now, see you at six.", user_id="v", timestamp="2023-02-01")
    assert mem.get(moment.id).superseded_by is None


def test_a_change_that_names_the_old_value_gives_the_new_one(mem: Memory) -> None:
    """Read alone, "Dr. Amiri retired, ..." states the old doctor; beside the user's current
    facts, the value said to end is the old one and the other is the new one."""
    pairs = [("My GP is Dr. Amiri.", "Dr. Amiri retired and I was assigned to Dr. Lowe.", "self|doctor",
              "lowe"),
             ("I drive a Honda Jazz.", "The Jazz got totalled, so now I'm in a Skoda Fabia.", "self|car",
              "skoda fabia"),
             ("My hobby is pottery.", "Pottery got boring, chess is my thing now.", "self|hobby", "chess"),
             ("I have a Pixel 7.", "The Pixel 7 got stolen, so I'm on an iPhone 15 now.", "self|phone",
              "iphone 15"),
             ("My email is kai@first.example.",
              "I never read kai@first.example anymore; use kai@second.example.", "self|email",
              "kai@second.example"),
             ("I hit the gym on Tuesdays.", "Tuesdays stopped working for me, so gym is on Saturdays.",
              "self|gym day", "saturday"),
             ("My favourite food is pizza.", "Ramen has become my favourite food.", "self|favourite food",
              "ramen")]
    for n, (first, then, key, value) in enumerate(pairs):
        [old] = mem.add(first, user_id=f"r{n}", timestamp="2023-01-01")
        [new] = mem.add(then, user_id=f"r{n}", timestamp="2023-02-01")
        assert (new.fact_key, new.fact_value) == (key, value), then
        assert mem.get(old.id).superseded_by == new.id
    # an absence, a stand-in or someone else's news is no successor
    [carla] = mem.add("My manager is Carla.", user_id="s", timestamp="2023-01-01")
    for then in ("Carla left early today, so Miguel ran the standup.",
                 "Carla was away, so I reported to Miguel once instead.",
                 "Carla said Miguel is now leading the project."):
        mem.add(then, user_id="s", timestamp="2023-02-01")
    assert mem.get(carla.id).superseded_by is None
    # the old value traded for a named one, where nothing else keys the turn
    for n, (first, then, key, value) in enumerate([
            ("I live in Oslo.", "Swapped Oslo for Bergen - cheaper rent!", "self|residence", "bergen"),
            ("I work at Nimbus.", "Left Nimbus for Corvid last week.", "self|employer", "corvid")]):
        [old] = mem.add(first, user_id=f"w{n}", timestamp="2023-01-01")
        [new] = mem.add(then, user_id=f"w{n}", timestamp="2023-02-01")
        assert (new.fact_key, new.fact_value) == (key, value), then
        assert mem.get(old.id).superseded_by == new.id
    [oslo] = mem.add("I live in Oslo.", user_id="x", timestamp="2023-01-01")
    [nimbus] = mem.add("I work at Nimbus.", user_id="x", timestamp="2023-01-01")
    for then in ("Left Oslo for Bergen at dawn, back on Sunday.",  # a trip
                 "Left Nimbus for lunch with Ines."):  # an outing
        mem.add(then, user_id="x", timestamp="2023-02-01")
    assert mem.get(oslo.id).superseded_by is None and mem.get(nimbus.id).superseded_by is None
    [gym] = mem.add("I hit the gym on Tuesdays.", user_id="t", timestamp="2023-01-01")
    [pizza] = mem.add("My favourite food is pizza.", user_id="t", timestamp="2023-01-01")
    for then in ("I quit my Tuesday pottery class; now it's yoga on Fridays.",  # not the gym
                 "Sushi is one of my favourite foods too."):  # one of several
        mem.add(then, user_id="t", timestamp="2023-02-01")
    assert mem.get(gym.id).superseded_by is None and mem.get(pizza.id).superseded_by is None


def test_a_weekday_routine_is_a_fact_and_a_dated_event_is_not(mem: Memory) -> None:
    """The embedding side reads "on Friday" as a date of one event, "on Fridays" as a routine."""
    [event] = mem.add("Dropped my laptop at the repair shop on Friday.", user_id="w", timestamp="2023-01-01")
    assert event.fact_key is None
    [routine] = mem.add("Leg day is on Thursdays for me these days.", user_id="w", timestamp="2023-01-02")
    assert (routine.fact_key, routine.fact_value) == ("self|gym day", "thursday")


def test_questions_about_the_present_ask_for_fact_keys() -> None:
    assert asked_fact_keys("Where do I live now?") == ["self|residence"]
    assert "ana|manager" in asked_fact_keys("Who is Ana's manager?")
    assert asked_fact_keys("Where did I live before?") == []  # the past: not the current holder
    assert asked_facts("Where did I use to work?") == AskedFacts(["self|employer"], "earlier")
    assert asked_facts("Where did I live in May 2023?").when == "then"


def test_a_question_about_the_past_gets_what_was_true_then(mem: Memory) -> None:
    """"Used to" and "before" get the value the current one replaced; a named time, the value
    that held then; a question that names no time prefers no holder."""
    [lyon] = mem.add("I live in Lyon.", user_id="p", timestamp="2023-01-10")
    [oslo] = mem.add("Packed up the flat, I'm a resident of Oslo now.", user_id="p", timestamp="2023-04-02")
    [galway] = mem.add("We've relocated the family to Galway.", user_id="p", timestamp="2023-09-20")
    assert (lyon.fact_key, oslo.fact_key, galway.fact_key) == ("self|residence",) * 3
    first = {q: mem.search(q, user_id="p", limit=1, reference_time="2023-12-01")[0].memory.id for q in (
        "Where do I live these days?", "Where did I use to live?", "Where did I live before?",
        "Where did I live in February 2023?", "Where did I live in June 2023?")}
    assert list(first.values()) == [galway.id, oslo.id, oslo.id, lyon.id, oslo.id]


def test_the_current_value_comes_first_and_as_of_the_old_one(mem: Memory) -> None:
    [old] = mem.add("I live in Denver.", user_id="u", timestamp="2023-01-01")
    mem.add([{"content": f"chatting about kites and weather, part {i}", "timestamp": "2023-02-01"}
             for i in range(20)], user_id="u")
    [new] = mem.add("We've relocated the family to Galway.", user_id="u", timestamp="2023-06-01")
    assert mem.get(old.id).superseded_by == new.id
    hits = mem.search("Where do I live now?", user_id="u", limit=3, reference_time="2023-07-01")
    assert hits[0].memory.id == new.id and "fact" in hits[0].explain
    then = mem.search("Where do I live now?", user_id="u", limit=3, as_of="2023-03-01")
    assert then[0].memory.id == old.id
    context = mem.context("Where have I lived?", user_id="u", reference_time="2023-07-01")
    assert "I live in Denver. [was true until 2023-06-01]" in context


def test_a_place_a_product_or_a_doctor_never_takes_a_persons_role(mem: Memory) -> None:
    """The embedding side reads a role from any capitalised name; a name with an article before
    it, a noun it qualifies after it, or "Dr." for a role that is not medical is no person in it."""
    [partner] = mem.add("I'm dating Noor.", user_id="p", timestamp="2023-01-01")
    [landlord] = mem.add("Our landlord is Mr. Abebe.", user_id="p", timestamp="2023-01-02")
    for text in ("We're Tallinn people now.", "The car I have on loan this week is a Skoda Octavia.",
                 "Noor is travelling, so I'm seeing Dr. Varga for now."):
        [said] = mem.add(text, user_id="p", timestamp="2023-02-01")
        assert said.fact_key not in ("self|partner", "self|landlord"), text
    assert mem.get(partner.id).superseded_by is None and mem.get(landlord.id).superseded_by is None


def test_a_nationality_before_a_noun_is_no_place_to_live() -> None:
    """Found on LoCoMo once the speaker's own facts lowered the margin: "my Japanese house"
    superseded where the speaker lived."""
    from memgrid.write.facts import value_of

    assert value_of("residence", "I threw a party at my Swedish house last week, new album and all.") is None
    assert value_of("residence", "We just got the keys to our Leeds flat now.") == "leeds"
    assert value_of("residence", "I live in Milan now.") == "milan"


def test_a_speaker_who_has_a_value_needs_less_margin_to_change_it() -> None:
    """The embedding side's prior: a sentence as near an attribute's examples as to those of no
    fact is a change only where its speaker already holds that attribute and says so ("now")."""
    import numpy as np

    from memgrid.write.states import NONE_LABEL, StateDetector, _Examples

    detector = StateDetector(embedder=None)  # type: ignore[arg-type]  # no text is embedded here
    detector._examples = _Examples.of(np.eye(2, dtype=np.float32), ["residence", NONE_LABEL])
    sentence = np.array([[0.6, 0.61]], dtype=np.float32)  # 0.01 nearer to no fact at all
    assert detector.decide(sentence, [["residence"]]) == [None]
    assert detector.decide(sentence, [["residence"]], [set()]) == [None]
    assert detector.decide(sentence, [["residence"]], [{"residence"}]) == ["residence"]
    further = np.array([[0.6, 0.7]], dtype=np.float32)  # beyond the held margin too
    assert detector.decide(further, [["residence"]], [{"residence"}]) == [None]


def test_the_prior_reads_what_each_speaker_holds_now(mem: Memory) -> None:
    from memgrid.models import Scope

    mem.add("I live in Denver now.", user_id="dana")
    scope = Scope(mem.tenant_id, "dana")
    units = mem.writer.prepare([{"role": "user", "content": "Life here is different now."},
                                {"role": "user", "content": "I work at Initrode now.", "speaker": "Sam"}],
                               scope)
    held = mem.writer._held(units)
    assert held == {"self": {"residence"},  # the store's current fact of dana's
                    "sam": {"employer"}}  # the batch's own statement, of its speaker


def test_new_values_outside_the_first_lists_supersede_and_other_kinds_do_not(mem: Memory) -> None:
    """A value none of the early vocabularies had ("epidemiology", "bassoon") still replaces the
    old one; "I'm now a vegan" is a diet, never a job that would close the user's real one."""
    [nurse] = mem.add("I'm now a nurse.", user_id="n", timestamp="2023-01-01")
    [vegan] = mem.add("I'm now a vegan.", user_id="n", timestamp="2023-02-01")
    assert vegan.fact_key == "self|diet" and mem.get(nurse.id).superseded_by is None
    [major] = mem.add("I'm majoring in geology.", user_id="m", timestamp="2023-01-01")
    [changed] = mem.add("I switched my major to epidemiology.", user_id="m", timestamp="2023-02-01")
    assert mem.get(major.id).superseded_by == changed.id and changed.fact_value == "epidemiology"
    [flute] = mem.add("I play the flute.", user_id="i", timestamp="2023-01-01")
    [bassoon] = mem.add("I'm learning the bassoon now.", user_id="i", timestamp="2023-02-01")
    assert mem.get(flute.id).superseded_by == bassoon.id  # "learning" is no passing moment
    [paleo] = mem.add("I went paleo last year.", user_id="d", timestamp="2023-01-01")
    [veggie] = mem.add("I stopped eating meat, I'm vegetarian now.", user_id="d", timestamp="2023-02-01")
    assert mem.get(paleo.id).superseded_by == veggie.id and veggie.fact_value == "vegetarian"
