"""The standing attributes of a person that change, for the zero-LLM fact detector: each with
cue words that say a sentence is about it, the kind of value it takes, and (for values that are
not names) a vocabulary. A lexicon, not sentence templates: any wording that has a cue word
and a value of the right kind counts, so phrasings nobody wrote down still resolve.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttributeCues:
    name: str
    cues: tuple[str, ...]  # regex alternatives, matched as whole words (case-insensitive)
    kind: str  # name, number, email, phone, money, weekday, vocab, product, title
    vocab: tuple[str, ...] = ()  # the values of a vocab attribute (longest match wins)
    excluded: tuple[str, ...] = ()  # words that make the sentence a one-off, not a change
    change: bool = False  # several values at once are common: a new one replaces only when said so


FOODS = ("sushi", "ramen", "tacos", "pizza", "curry", "falafel", "pasta", "burgers", "dumplings", "pho",
         "pad thai", "paella", "tapas", "steak", "salad", "kimchi", "burritos", "lasagna", "bbq",
         "dim sum", "pierogi", "shakshuka", "biryani", "enchiladas", "quesadillas", "gnocchi", "risotto",
         "ravioli", "carbonara", "lasagne", "poke", "poke bowls", "bibimbap", "bulgogi", "udon", "soba",
         "tempura", "gyoza", "bao", "banh mi", "laksa", "satay", "rendang", "tom yum", "green curry",
         "massaman", "katsu", "tikka masala", "butter chicken", "dal", "samosas", "dosa", "hummus",
         "shawarma", "kebabs", "gyros", "moussaka", "souvlaki", "empanadas", "ceviche", "arepas",
         "churros", "nachos", "fajitas", "chili", "gumbo", "jambalaya", "mac and cheese", "fried chicken",
         "fish and chips", "roast chicken", "pancakes", "waffles", "crepes", "croissants", "bagels",
         "noodles", "fried rice", "hot pot", "pad see ew", "goulash", "schnitzel", "bratwurst", "fondue",
         "raclette", "tagine", "couscous", "jollof rice", "injera", 
         "sashimi", "onigiri", "okonomiyaki", "takoyaki", "ice cream", "gelato", "cheesecake", 
         "brownies", "doughnuts", "donuts")
HOBBIES = ("pottery", "rock climbing", "climbing", "bouldering", "chess", "gardening", "running", "baking",
           "painting", "knitting", "photography", "yoga", "surfing", "cycling", "hiking", "woodworking",
           "birdwatching", "fishing", "swimming", "dancing", "salsa", "writing", "sewing", "archery",
           "skateboarding", "golf", "tennis", "calligraphy", "origami", "badminton", "volleyball",
           "basketball", "squash", "boxing", "karate", "judo", "pilates", "rowing", "sailing", "skiing",
           "snowboarding", "kayaking", "scuba diving", "crochet", "embroidery", "quilting", "sketching",
           "beekeeping", "padel", "pickleball", "aikido", "fencing", "jiu-jitsu", "jiu jitsu", "taekwondo",
           "kickboxing", "muay thai", "kung fu", "tai chi", "capoeira", "parkour", "gymnastics",
           "weightlifting", "powerlifting", "crossfit", "spinning", "zumba", "ballet", "tap dancing",
           "ballroom dancing", "tango", "swing dancing", "hip hop", "breakdancing", "choir", "karaoke",
           "improv", "stand-up comedy", "juggling", "filmmaking", "video editing", "brewing",
           "homebrewing", "winemaking", "fermenting", "foraging", "bonsai", "stargazing", "geocaching",
           "orienteering", "backpacking", "mountaineering", "trail running", "triathlon",
           "triathlons", "marathons", "jogging", "mountain biking", "bmx", "rollerblading",
           "roller skating", "ice skating", "figure skating", "skating", "snowshoeing", "canoeing",
           "paddleboarding", "windsurfing", "kitesurfing", "wakeboarding", "diving", "freediving",
           "snorkeling", "snorkelling", "fly fishing", "horse riding", "horseback riding", "equestrian",
           "ceramics", "sculpting", "sculpture", "watercolours", "watercolors", "watercolour",
           "watercolor", "oil painting", "printmaking", "woodcarving", "whittling", "carpentry",
           "candle making", "soap making", "jewellery making", "jewelry making", "glassblowing", "weaving",
           "macrame", "cross-stitch", "cross stitch", "felting", "scrapbooking", "journaling", "blogging",
           "podcasting", "vlogging", "gaming", "video games", "board games", "poker", "crosswords",
           "sudoku", "jigsaw puzzles", "genealogy", "meditation", "robotics", "model trains", "drones",
           "ham radio", "coin collecting", "stamp collecting", "thrifting", "upcycling", "lacrosse",
           "rugby", "cricket", "hockey", "ice hockey", "softball", "netball", "handball", "table tennis",
           "ping pong", "darts", "snooker", "billiards", "bowling", "curling", "ultimate frisbee",
           "frisbee", "disc golf", "rafting", "whitewater rafting", "skydiving", "paragliding",
           "hang gliding", "spearfishing", "bird watching", "birding")
INSTRUMENTS = ("guitar", "bass guitar", "bass", "piano", "violin", "drums", "cello", "ukulele",
               "saxophone", "flute", "trumpet", "clarinet", "harp", "banjo", "keyboard", "viola",
               "accordion", "mandolin", "oboe", "bassoon", "tuba", "trombone", "french horn", "horn",
               "harmonica", "sitar", "tabla", "bagpipes", "synthesizer", "synth", "marimba", "xylophone",
               "lute", "double bass", "upright bass", "electric guitar", "acoustic guitar", "piccolo",
               "euphonium", "bongos", "djembe", "steel drums", "theremin", "glockenspiel", "kalimba",
               "erhu", "guzheng", "koto", "shamisen", "didgeridoo", "dulcimer", "fiddle", "zither",
               "timpani", "cajon", "tin whistle", "pan flute", "bodhran", "bouzouki", "balalaika", "oud",
               "sax", "alto sax", "tenor sax", "cornet", "flugelhorn", "hurdy-gurdy", "handpan")
DIETS = ("vegan", "vegetarian", "keto", "pescatarian", "gluten-free", "paleo", "plant-based", "halal",
         "kosher", "low-carb", "dairy-free", "flexitarian", "carnivore", "raw vegan", "low-fat",
         "sugar-free", "lactose-free", "nut-free", "low-fodmap", "mediterranean", "atkins", "macrobiotic",
         "fruitarian", "pollotarian")
# a phone is its brand and the model after it ("iPhone 15", "Galaxy S24")
PHONES = ("iphone", "pixel", "galaxy", "nokia", "oneplus", "xperia", "moto", "fairphone", "huawei",
          "xiaomi", "motorola", "redmi", "oppo", "vivo", "honor", "zenfone", "blackberry", "nothing phone",
          "razr", "galaxy z flip", "galaxy z fold")
SUBJECTS = ("biology", "economics", "computer science", "history", "public health", "music", "physics",
            "chemistry", "mathematics", "math", "law", "medicine", "nursing", "psychology", "sociology",
            "philosophy", "engineering", "mechanical engineering", "art history", "english literature",
            "literature", "political science", "finance", "accounting", "architecture", "statistics",
            "neuroscience", "linguistics", "astronomy", "astrophysics", "geology", "anthropology",
            "environmental science", "marine biology", "biochemistry", "bioengineering",
            "civil engineering", "electrical engineering", "chemical engineering", "aerospace engineering",
            "biomedical engineering", "software engineering", "education", "journalism", "communications",
            "film studies", "theatre", "theater", "drama", "fine art", "fine arts", "graphic design",
            "business administration", "marketing", "international relations", "geography", "classics",
            "theology", "religious studies", "gender studies", "ecology", "zoology", "botany", "genetics",
            "pharmacology", "pharmacy", "kinesiology", "nutrition", "data science",
            "information technology", "cybersecurity", "game design", "criminology", "criminal justice",
            "urban planning", "agriculture", "veterinary science", "dentistry", "social work",
            "public policy", "modern languages", "applied mathematics", "applied math",
            "cognitive science", "molecular biology", "microbiology", "epidemiology")

JOBS = ("nurse", "teacher", "engineer", "analyst", "data analyst", "manager", "product manager",
        "director", "senior director", "designer", "developer", "architect", "lawyer", "chef",
        "accountant", "consultant", "scientist", "data scientist", "researcher", "professor", "lecturer",
        "pharmacist", "paramedic", "firefighter", "police officer", "pilot", "electrician", "plumber",
        "mechanic", "barista", "cashier", "programmer", "software engineer", "editor", "journalist",
        "writer", "photographer", "therapist", "counselor", "social worker", "dentist", "surgeon",
        "veterinarian", "vet", "librarian", "recruiter", "salesperson", "sales rep", "marketer", "intern",
        "supervisor", "team lead", "vp", "ceo", "cto", "founder", "owner", "coach", "trainer", "tutor",
        "principal", "midwife", "doctor", "physician", "solicitor", "barrister", "paralegal", "officer",
        "loan officer", "bank teller", "teller", "clerk", "assistant", "specialist", "coordinator",
        "technician", "administrator", "operator", "advisor", "adviser", "inspector", "worker", "agent",
        "representative", "head chef", "sous chef", "cook", "baker", "butcher", "waiter", "waitress",
        "bartender", "receptionist", "secretary", "carpenter", "welder", "builder", "driver", "courier",
        "dispatcher", "caregiver", "carer", "nanny", "optometrist", "physiotherapist",
        "physical therapist", "occupational therapist", "radiographer", "sonographer", "hygienist",
        "psychologist", "psychiatrist", "economist", "statistician", "actuary", "auditor", "bookkeeper",
        "banker", "trader", "broker", "realtor", "estate agent", "surveyor", "planner", "strategist",
        "buyer", "merchandiser", "copywriter", "illustrator", "animator", "producer", "translator",
        "interpreter", "curator", "archivist", "dean", "headteacher", "head teacher", "teaching assistant",
        "instructor", "executive", "president", "vice president", "officers", "detective", "sergeant",
        "lieutenant", "soldier", "ranger", "gardener", "landscaper", "farmer", "fisherman", "miner",
        "machinist", "foreman", "contractor", "freelancer", "entrepreneur", "stylist", "hairdresser",
        "barber", "tailor", 
        "biologist", "chemist", "physicist", "geologist",
        "mathematician", "postdoc", "apprentice", "trainee", "cadet", "pastor", "priest", "rabbi")
_SAID_DIET = rf"\s+(?:now\s+|strictly\s+|also\s+)?(?:an?\s+)?(?:{'|'.join(DIETS)})\b"
ANIMALS = r"dog|cat|puppy|kitten|rabbit|bunny|pet|hamster|parrot|turtle|horse|greyhound|labrador|terrier"
# a change said outright: what multi-valued attributes (hobbies, instruments, teams, pets, favourites)
# need before a new value replaces the old, since people have several at once ("lately I love
# painting" adds a hobby; "swapped pottery for painting" replaces one)
REPLACE = (r"switched|swapped|swapping|instead|anymore|any more|no more|no longer|replaced|gave up|"
           r"given up|from now on|moved on|(?:days|phase) (?:is|are) over|changed|passed away|died|rehomed")
# ... or the new value said to be the one of the present ("tacos are my favourite food at the
# moment", "I follow Chelsea now"), unless the words keep the old beside it ("also", "too")
PRESENT = r"now|these days|nowadays|currently|at the moment|at present"
BESIDES = r"also|too|as well|besides|alongside|another|other|second|both|added"

ATTRIBUTE_CUES: tuple[AttributeCues, ...] = (
    AttributeCues("residence", (r"live", r"living", r"moved", r"moving", r"relocat\w*", r"settled", r"lease",
                                r"based", r"(?:is|as) (?:now )?(?:my |our )?(?:new )?home", r"new home",
                                r"home (?:is|now)", r"home(?=\s+(?:these days|nowadays))", r"address",
                                r"movers", r"removal\w*", r"unpack\w*",
                                # "we're Lisbon people now", "a Leeds local": the name right before
                                r"people(?=\s+now\b)",
                                # "I'm in Lisbon now": where one is, said to be so now
                                r"(?:i'm|i am|we're|we are)\s+(?:now\s+)?in"
                                r"(?=\s+(?-i:[A-Z])\w+(?:\s+(?-i:[A-Z])\w+)?\s+now\b)",
                                r"(?:locals?|residents?)(?=\s*(?:[,.!;]|$|now\b|these\b|since\b))"),
                  "name",
                  excluded=(r"moved in with", r"weekend", r"trip", r"vacation", r"holiday", r"wedding",
                            r"visit\w*", r"conference", r"spent", r"stay(?:ed|ing)?", r"flight", r"tour")),
    AttributeCues("employer", (r"work(?!\s+out)", r"working", r"job", r"joined", r"hired", r"employer",
                               r"company", r"role", r"accepted an offer from", r"job offer from",
                               r"pay ?checks?", r"paycheques?", r"employee(?: of)?", r"payroll", r"badge",
                               r"start(?:ed|ing)? at", r"contract with", r"part of the"),
                  "name",
                  excluded=(r"answer to", r"reports? to", r"reporting to", r"meeting", r"client",
                            r"interview", r"applied", r"apply", r"visit\w*", r"masters", r"semester",
                            r"degree",
                            r"group", r"program", r"club", r"team", r"class", r"project", r"volunteer\w*")),
    AttributeCues("job title", (r"promoted", r"title", r"as an?", r"made me", r"been an?", r"now an?",
                                r"work as", r"i'm an?", r"i am an?", r"role", r"position", r"cards? say",
                                r"(?:bumped|moved|stepped) (?:me )?up"),
                  "title", JOBS),
    AttributeCues("school", (r"school", r"college", r"university",
                             r"transfer\w*(?!\s+(?:to|into)\s+(?:the|dr)\b)", r"enrolled", r"masters",
                             r"semester",
                             r"student", r"studying at", r"got into", r"campus", r"admitted to"), "name"),
    AttributeCues("major", (r"major", r"majoring", r"degree in"), "vocab", SUBJECTS),
    AttributeCues("partner", (r"dating", r"girlfriend", r"boyfriend", r"partner", r"wife", r"husband",
                              r"engaged", r"married", r"fianc\w*", r"going out with", r"other half",
                              r"significant other", r"spouse", r"a couple", r"moved in with me",
                              r"(?:been|are|got|back) together", r"fallen for", r"fell for",
                              r"relationship with",
                              # "I've been seeing Mateo", not "seeing Dr. Lee" (a doctor)
                              r"(?:been|started|i'm|am) seeing(?=\s+(?!Dr\b|Doctor\b)(?-i:[A-Z])[a-z]+\b)"),
                  "name"),
    AttributeCues("manager", (r"manager", r"boss", r"reports? to", r"reporting to", r"supervisor",
                              r"answer to", r"line manager"), "name"),
    AttributeCues("doctor", (r"doctor", r"doc", r"gp", r"physician", r"dr\.?"), "name",
                  excluded=(r"therapist", r"counsell?or", r"psychologist", r"psychiatrist")),
    AttributeCues("therapist", (r"therapist", r"counsell?or", r"psychologist", r"psychiatrist"), "name"),
    AttributeCues("landlord", (r"landlord", r"landlady"), "name"),
    AttributeCues("mentor", (r"mentor",), "name"),
    # minding someone's pet is not having one
    AttributeCues("pet", (ANIMALS, r"pup", r"adopted"), "name", change=True,
                  excluded=(r"[\w-]*sat", r"[\w-]*sitting", r"[\w-]*sitter", r"for the weekend",
                            r"borrow\w*")),
    AttributeCues("number of kids", (r"kids?", r"children", r"little ones?", r"child"), "number"),
    # "I'm vegan" states a diet; "I'm making a vegan cake" does not: the value right after "I'm"
    AttributeCues("diet", (r"diet", r"went", r"gone", r"i'm now", r"fully", r"follow", r"eating",
                           rf"(?:i'm|i am|i've been|i have been)(?={_SAID_DIET})"), "vocab", DIETS),
    AttributeCues("favourite food", (r"favou?rite", r"crave", r"enough of", r"beats", r"tops", r"dish",
                                     r"could eat", r"obsessed with", r"top spot", r"go-to",
                                     r"comfort food"), "vocab",
                  FOODS, change=True),
    AttributeCues("car", (r"car", r"drive", r"driving", r"bought an?", r"picked up an?", r"traded",
                          r"keys to (?:my|our|the|a|an)", r"ride", r"vehicle", r"get(?:ting)? around in",
                          r"owner of an?", r"own an?"),
                  "name",
                  excluded=(r"rental", r"rented", r"hire car", r"borrow\w*", r"loaner", r"test[- ]drov?e",
                            r"shirt", r"jersey", r"scarf", r"tickets?")),
    AttributeCues("phone", (r"phone", r"switched to an?", r"smartphone", r"mobile", r"got an?", r"have an?",
                            r"handset", r"cell", r"device", r"moved (?:over )?to (?:an?|the)",
                            r"upgraded to (?:an?|the)"),
                  "product", PHONES),
    AttributeCues("email", (r"e-?mail", r"mail", r"reach me", r"contacts", r"address", r"use", r"write to",
                            r"inbox", r"mailbox"),
                  "email"),
    AttributeCues("phone number", (r"number", r"call me", r"sim", r"reach me", r"text me"), "phone"),
    AttributeCues("hobby", (r"hobby", r"taken up", r"took up", r"got into", r"my sport", r"free time",
                            r"spare time", r"passion", r"pastime", r"(?:really |totally |very )into"),
                  "vocab", HOBBIES,
                  change=True),
    AttributeCues("instrument", (r"play", r"playing", r"learning", r"lessons", r"practi[cs]\w*",
                                 r"picked up"), "vocab", INSTRUMENTS, change=True),
    AttributeCues("team", (r"fan of", r"fan", r"support the", r"root(?:ing)? for", r"cheer(?:ing)? for",
                           r"supporter", r"follow(?:ing)? the", r"shirt", r"jersey", r"allegiance",
                           r"season ticket", r"loyalty",
                           # "supporting Everton, long story", not "supporting Tom through his exams"
                           r"support(?:ing)?(?=\s+(?:the\s+)?(?-i:[A-Z])\w*(?:\s+(?-i:[A-Z])\w*)?\s*(?:[,.!;]|$|now\b|"
                           r"these\b|since\b|again\b|instead\b))",
                           r"my (?:football |soccer |footy |hockey |baseball )?team(?=\s+(?:is|are)\b)"),
                  "name",
                  excluded=(r"at work", r"work", r"project", r"office", r"colleagues?", r"job"), change=True),
    AttributeCues("gym day", (r"gym", r"work out", r"workouts?", r"training"), "weekday",
                  excluded=(r"closed", r"shut", r"crowded", r"busy", r"packed")),
    AttributeCues("income", (r"earn", r"salary", r"income", r"take[- ]home", r"a month", r"monthly", r"pay",
                             r"paid", r"wages?", r"earnings", r"every month",
                             r"per month"), "money"),
)

# how questions name each attribute ("where do I live", "who is my boss")
ASKED: dict[str, str] = {
    "residence": r"live|living|home|city|based", "employer": r"work|employer|company",
    "job title": r"job title|title|position|job", "school": r"school|college|university",
    "major": r"major|studying|study", "partner": r"partner|dating|girlfriend|boyfriend|wife|husband|fianc\w*",
    "manager": r"manager|boss|report to", "doctor": r"doctor|gp|physician",
    "therapist": r"therapist|counsell?or|psychologist|psychiatrist", "landlord": r"landlord|landlady",
    "mentor": r"mentor", "pet": r"pet|pet's|" + ANIMALS,
    "number of kids": r"kids|children", "diet": r"diet", "favourite food": r"favou?rite food|favou?rite dish",
    "car": r"car|drive", "phone": r"phone(?!\s+number)", "email": r"e-?mail", "phone number": r"phone number",
    "hobby": r"hobby|hobbies", "instrument": r"instrument|play", "team": r"team|support",
    "gym day": r"gym|work out", "income": r"income|salary|earn",
}
