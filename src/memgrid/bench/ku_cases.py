"""Cases for the knowledge-update benchmark: attributes people update, each with values, the
question about its present value, update phrasings and control statements that must not change
it. Phrasings are written here, apart from the detector (`write/facts.py`), and every third one
(`HELD_OUT`) is never used to tune it: results on that split are reported on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]
    question: str
    updates: tuple[str, ...]  # first person, {v} the new value
    others: tuple[str, ...] = ()  # about someone else: never the user's fact
    maybe: tuple[str, ...] = ()  # hypothetical, planned or asked: not a change
    echo: str = ""  # an assistant repeating a value: never the user's fact
    once: tuple[str, ...] = field(default=())  # a one-off event naming a value


def held_out(index: int) -> bool:
    """Every third phrasing (index 2, 5, ...) belongs to the split that is never tuned on."""
    return index % 3 == 2


PLACES = ("Denver", "Austin", "Galway", "Lisbon", "Portland", "Toronto", "Leeds", "Perth", "Kyoto")
ORGS = ("Acme", "Globex", "Initech", "Hooli", "Deloitte", "Stripe", "Vandelay", "Pied Piper")
PEOPLE = ("Hannah", "Ivo", "Priya", "Tomas", "Keiko", "Marcus", "Lena", "Rafael")

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "residence",
        PLACES,
        "Where do I live now?",
        (
            "I moved to {v} last month.",
            "I live in {v} now.",
            "We've relocated the family to {v}.",
            "Just signed the lease on a flat in {v}, moving in was exhausting.",
            "These days I call {v} home.",
            "Finally settled in {v} after the move.",
        ),
        others=("My brother moved to {v}.", "My cousin lives in {v}."),
        maybe=("I'm thinking about moving to {v} someday.", "Would you ever live in {v}?"),
        echo="So you live in {v}, right?",
        once=("We spent a weekend in {v} for a wedding.",),
    ),
    Attribute(
        "employer",
        ORGS,
        "Where do I work now?",
        (
            "I'm now working at {v}.",
            "I got a job at {v}!",
            "Since last week I'm with {v}, new badge and all.",
            "I joined {v} on Monday.",
            "I work for {v} these days.",
            "Started my new role at {v} today.",
        ),
        others=("My sister just joined {v}.", "My friend works at {v}."),
        maybe=("I applied to {v}, fingers crossed.", "Should I take the offer from {v}?"),
        echo="You work at {v}, if I remember right.",
        once=("I had a client meeting at {v} today.",),
    ),
    Attribute(
        "job title",
        ("nurse", "data analyst", "product manager", "teacher", "senior director", "architect"),
        "What is my job title now?",
        (
            "I'm now a {v}.",
            "I got promoted to {v}.",
            "My new title is {v}, still sinking in.",
            "I started working as a {v}.",
            "They made me {v} this week.",
            "I've been a {v} since the spring.",
        ),
        others=("My dad is a {v}.",),
        maybe=("I'd love to become a {v} one day.",),
        echo="As a {v}, you must be busy.",
    ),
    Attribute(
        "school",
        ("Stanford", "Trinity College", "MIT", "UCLA", "McGill", "Imperial"),
        "Which school do I go to now?",
        (
            "I transferred to {v}.",
            "I'm now studying at {v}.",
            "Got into {v} and started this term.",
            "I enrolled at {v} this fall.",
            "I'm a student at {v} now.",
            "My classes at {v} began on Tuesday.",
        ),
        others=("My niece got into {v}.",),
        maybe=("I might apply to {v} next year.",),
        echo="How is {v} treating you?",
    ),
    Attribute(
        "major",
        ("biology", "economics", "computer science", "history", "public health", "music"),
        "What is my major now?",
        (
            "I switched my major to {v}.",
            "I'm majoring in {v} now.",
            "Changed course: it's {v} for me from here on.",
            "I declared {v} as my major.",
            "My major is {v}.",
            "I'm studying {v} now.",
        ),
        others=("My roommate majors in {v}.",),
        maybe=("Maybe I should switch to {v}?",),
        echo="{v} is a great major.",
    ),
    Attribute(
        "partner",
        PEOPLE,
        "Who is my partner now?",
        (
            "I'm dating {v} now.",
            "My girlfriend is {v}.",
            "{v} and I are together now, it's official.",
            "I'm seeing {v}.",
            "I got engaged to {v}!",
            "My partner {v} and I adopted a routine of Sunday walks.",
        ),
        others=("My best friend is dating {v}.",),
        maybe=("I have a crush on {v}, should I ask them out?",),
        echo="You and {v} make a great pair.",
    ),
    Attribute(
        "manager",
        PEOPLE,
        "Who is my manager now?",
        (
            "I report to {v} now.",
            "My new manager is {v}.",
            "Since the merger I report to {v} instead.",
            "{v} is my boss now.",
            "My manager is {v}.",
            "After the reorg, {v} became my manager.",
        ),
        others=("My wife's manager is {v}.",),
        maybe=("I hope {v} becomes my manager.",),
        echo="Your manager {v} sounds supportive.",
    ),
    Attribute(
        "doctor",
        PEOPLE,
        "Who is my doctor now?",
        (
            "My doctor is Dr. {v} now.",
            "I switched to Dr. {v} as my GP.",
            "I see Dr. {v} for checkups these days.",
            "My new doctor is Dr. {v}.",
            "I'm registered with Dr. {v}.",
            "Dr. {v} took over as my physician.",
        ),
        others=("My mom's doctor is Dr. {v}.",),
        maybe=("Should I switch to Dr. {v}?",),
        echo="Dr. {v} is your doctor, right?",
    ),
    Attribute(
        "pet",
        ("Biscuit", "Pixel", "Mochi", "Rex", "Luna", "Olive"),
        "What is my pet's name?",
        (
            "I adopted a puppy called {v}.",
            "My dog's name is {v}.",
            "Meet {v}, the newest member of our household.",
            "We got a cat named {v}.",
            "I have a rabbit called {v}.",
            "Brought home a kitten, we named her {v}.",
        ),
        others=("My neighbour's dog is called {v}.",),
        maybe=("If I get a dog I'll call it {v}.",),
        echo="How is {v} doing?",
    ),
    Attribute(
        "kids",
        ("one", "two", "three", "four"),
        "How many kids do I have now?",
        (
            "I have {v} kids now.",
            "We now have {v} children.",
            "With the baby, that makes {v} little ones at home.",
            "I'm a parent of {v} kids.",
            "We have {v} children.",
            "Our family has {v} kids now.",
        ),
        others=("My brother has {v} kids.",),
        maybe=("We'd like to have {v} kids eventually.",),
        echo="Raising {v} kids must be hard.",
    ),
    Attribute(
        "diet",
        ("vegan", "vegetarian", "keto", "pescatarian", "gluten-free"),
        "What diet do I follow now?",
        (
            "I went {v} last month.",
            "I'm {v} now.",
            "No more meat for me: fully {v} since January.",
            "I've been eating {v} for a while.",
            "I follow a {v} diet.",
            "My diet is {v} these days.",
        ),
        others=("My sister went {v}.",),
        maybe=("I'm considering going {v}.",),
        echo="Since you're {v}, try the lentil soup.",
    ),
    Attribute(
        "favourite food",
        ("sushi", "ramen", "tacos", "pizza", "curry", "falafel"),
        "What is my favourite food now?",
        (
            "My favourite food is {v}.",
            "My favorite food is now {v}.",
            "Lately {v} is what I crave most.",
            "{v} is my favourite dish.",
            "Nothing beats {v} for me.",
            "I can't get enough of {v} these days.",
        ),
        others=("My son's favourite food is {v}.",),
        maybe=("Is {v} healthy?",),
        echo="You love {v}, right?",
    ),
    Attribute(
        "car",
        ("Subaru Outback", "Tesla Model 3", "Honda Civic", "Volvo XC40", "Ford F-150"),
        "What car do I drive now?",
        (
            "I bought a {v}.",
            "I drive a {v} now.",
            "Traded in the old car, picked up a {v} yesterday.",
            "I got a new car, a {v}.",
            "My car is a {v}.",
            "I'm driving a {v} these days.",
        ),
        others=("My dad bought a {v}.",),
        maybe=("I'm test driving a {v} on Saturday.",),
        echo="How do you like the {v}?",
    ),
    Attribute(
        "phone",
        ("iPhone 15", "Pixel 8", "Galaxy S24", "Nokia 3310"),
        "What phone do I use now?",
        (
            "I switched to a {v}.",
            "I got a {v}.",
            "My old phone died, so it's a {v} now.",
            "I have a {v} now.",
            "My phone is a {v}.",
            "I'm on a {v} these days.",
        ),
        others=("My wife got a {v}.",),
        maybe=("Should I get a {v}?",),
        echo="The {v} has a great camera.",
    ),
    Attribute(
        "email",
        ("sam.k@example.org", "skim@mailbox.net", "s.kim@work.example", "kim.s@proton.example"),
        "What is my email address now?",
        (
            "My new email is {v}.",
            "You can reach me at {v} now.",
            "Update your contacts: {v} is where I read mail.",
            "My email address is {v}.",
            "I changed my email to {v}.",
            "Please use {v} from now on.",
        ),
        others=("My boss's email is {v}.",),
        maybe=("Is {v} a good email address?",),
        echo="I'll send it to {v}.",
    ),
    Attribute(
        "phone number",
        ("555-0142", "555-0199", "555-0117", "555-0163"),
        "What is my phone number now?",
        (
            "My new number is {v}.",
            "My phone number is {v}.",
            "Got a new SIM, the number is {v}.",
            "I changed my number to {v}.",
            "Call me on {v} now.",
            "Reach me at {v} from today.",
        ),
        others=("My landlord's number is {v}.",),
        maybe=("Was {v} your old number?",),
        echo="I'll call you at {v}.",
    ),
    Attribute(
        "hobby",
        ("pottery", "rock climbing", "chess", "gardening", "running", "baking"),
        "What is my hobby now?",
        (
            "My new hobby is {v}.",
            "I've taken up {v}.",
            "My allotment days are over, it's {v} on Thursdays now.",
            "I got into {v} recently.",
            "These days my hobby is {v}.",
            "I spend my weekends on {v} now.",
        ),
        others=("My husband took up {v}.",),
        maybe=("I might try {v} someday.",),
        echo="{v} sounds relaxing.",
    ),
    Attribute(
        "instrument",
        ("guitar", "piano", "violin", "drums", "cello", "ukulele"),
        "What instrument do I play now?",
        (
            "I started learning the {v}.",
            "I play the {v} now.",
            "Swapped my old lessons for {v}, loving it.",
            "I'm taking {v} lessons.",
            "I've been practising the {v}.",
            "I picked up the {v}.",
        ),
        others=("My daughter plays the {v}.",),
        maybe=("I wish I could play the {v}.",),
        echo="Playing the {v} takes patience.",
    ),
    Attribute(
        "team",
        ("Celtics", "Arsenal", "Yankees", "Lakers", "Packers"),
        "Which team do I support now?",
        (
            "I'm a {v} fan now.",
            "I support the {v}.",
            "Converted this season: I'm all in on the {v}.",
            "I root for the {v}.",
            "My team is the {v}.",
            "I cheer for the {v} these days.",
        ),
        others=("My uncle supports the {v}.",),
        maybe=("Are the {v} any good this year?",),
        echo="The {v} played well last night.",
    ),
    Attribute(
        "routine",
        ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Saturdays"),
        "Which day do I go to the gym now?",
        (
            "I go to the gym on {v} now.",
            "My gym day is {v}.",
            "Moved my workouts: gym is {v} from now on.",
            "I work out on {v}.",
            "I hit the gym on {v}.",
            "Gym sessions are on {v} these days.",
        ),
        others=("My trainer works {v}.",),
        maybe=("Maybe I'll go to the gym on {v}.",),
        echo="See you after the gym on {v}.",
    ),
    Attribute(
        "income",
        ("$5,000", "$6,200", "$7,500", "$9,000"),
        "What is my monthly income now?",
        (
            "I earn {v} a month now.",
            "My salary is {v} a month.",
            "After the raise I take home {v} monthly.",
            "I make {v} per month.",
            "My monthly income is {v}.",
            "My pay went up to {v} a month.",
        ),
        others=("My brother earns {v} a month.",),
        maybe=("I'd like to earn {v} a month.",),
        echo="With {v} a month you could save more.",
    ),
)
