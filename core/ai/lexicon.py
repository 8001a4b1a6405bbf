"""Word lists the offline analyser and writer read: stop words, sentiment and emotion lexicons, entity
hints, Hindi markers and words about the talk itself. Pure data: no downloads, no model weights."""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """A word set written as one whitespace-separated string (readable lexicons)."""
    return frozenset(text.split())


STOP_WORDS: frozenset[str] = words("""
    a about above after again against all almost also although always am among an and another any anyone
    anything are aren't around as at away back be because been before being below between both but by
    can can't cannot could couldn't did didn't do does doesn't doing don't done down during each either
    else enough even ever every everything few for from further get gets getting give given go goes going
    gone gonna got gotten had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's its itself
    just keep kind know known last least less let let's like likely lot lots made make makes making many
    may maybe me might mine more most much must my myself need needs never new next no nobody none nor
    not nothing now of off often oh ok okay on once one only onto or other others otherwise our ours
    ourselves out over own per perhaps put quite rather re really right said same say saying says see
    seem seems she she'd she'll she's should shouldn't since so some someone something sometimes soon
    still such sure take takes tell than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've thing things think this those though through thus till to
    today together too took toward towards try trying two under until up upon us use used using very via
    want wants was wasn't way we we'd we'll we're we've well went were weren't what what's whatever when
    where where's whether which while who who's whom whose why will with within without won't would
    wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves um uh actually
    basically literally honestly stuff guys gonna wanna three four five six seven eight nine ten first
    second third every day days time times year years week weeks month months back come comes came
    look looks looked start started mean means meant call called put puts bit big little good great
    """)

SECOND_PERSON: frozenset[str] = frozenset({"you", "your", "you're", "yours", "yourself", "you'll", "you've"})
NUMBER_WORDS: frozenset[str] = words(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty fifty hundred "
    "thousand million billion lakh lakhs crore crores percent dozen half double triple"
)
STRONG_CLAIM_WORDS: frozenset[str] = words(
    "never always everyone everybody nobody nothing biggest best worst only must truth guaranteed "
    "every proven exactly simple simply most greatest number-one"
)
CONTRAST_WORDS: frozenset[str] = words(
    "but actually secret secrets mistake mistakes wrong instead however truth surprising surprisingly "
    "myth myths stop nobody unless except counterintuitive real reality lie lies"
)
FILLER_WORDS: frozenset[str] = words("um uh like basically literally okay so yeah kind sort")

POSITIVE_WORDS: dict[str, float] = {
    word: 1.0
    for word in words(
        """
    good great excellent amazing thank thanks useful easier thoughtful invited earn awesome love loved
    loving enjoy enjoyed happy glad grateful
    thankful win wins won winning success successful succeed growth grow grew growing gain gains benefit
    benefits best better improve improved improvement opportunity opportunities easy simple clear
    trust trusted valuable value helpful help helped helps inspire inspired inspiring proud confident
    powerful strong effective fantastic wonderful brilliant excited exciting incredible positive
    rewarding reward rewards fun joy joyful delighted impressive perfect progress achieve achieved
    achievement authentic genuine generous loyal thrive thriving smart wise beautiful encouraging
    breakthrough celebrate celebrated favourite favorite respect respected remarkable outstanding
    """
    )
}
NEGATIVE_WORDS: dict[str, float] = {
    word: -1.0
    for word in words(
        """
    bad terrible awful horrible hate hated hating dislike sad unhappy angry annoyed annoying fail
    failed failing failure failures lose lost losing loss problem problems issue issues difficult hard
    struggle struggled struggling worse worst wrong mistake mistakes pain painful fear afraid scared
    worried worry anxious stress stressed stressful boring bored waste wasted useless poor weak
    confusing confused frustrated frustrating disappointed disappointing ugly broken risk risky
    scary toxic fake cringe cringey ignored ignore rejected rejection doubt doubts burnout tired
    exhausted negative nervous embarrassing embarrassed shame shameful lonely crisis
    """
    )
}
NEGATIONS: frozenset[str] = words(
    "not no never none nobody nothing neither nor without don't doesn't didn't isn't aren't wasn't "
    "weren't won't wouldn't can't cannot couldn't shouldn't hardly"
)
INTENSIFIERS: dict[str, float] = {
    "very": 1.5,
    "really": 1.4,
    "extremely": 1.8,
    "super": 1.5,
    "so": 1.3,
    "incredibly": 1.8,
    "absolutely": 1.7,
    "totally": 1.5,
    "truly": 1.4,
    "hugely": 1.6,
    "massively": 1.7,
    "deeply": 1.5,
    "ekdum": 1.5,
    "bahut": 1.5,
    "slightly": 0.6,
    "somewhat": 0.6,
    "barely": 0.5,
    "little": 0.7,
    "fairly": 0.8,
}

EMOTION_WORDS: dict[str, frozenset[str]] = {
    "joy": words(
        "happy happiness joy joyful love loved fun excited exciting delighted glad celebrate celebrated "
        "smile smiling laugh enjoy enjoyed proud grateful thrilled amazing awesome wonderful"
    ),
    "surprise": words(
        "surprise surprised surprising surprisingly shocked shocking unexpected suddenly wow amazed "
        "astonishing incredible unbelievable realised realized discovered secret turns twist"
    ),
    "fear": words(
        "fear afraid scared scary worried worry anxious anxiety nervous panic risk risky terrified "
        "threat insecure judge doubt doubts uncertain imposter judged judgement judgment"
    ),
    "anger": words(
        "angry anger annoyed annoying furious hate hated rage frustrated frustrating outraged unfair "
        "irritated mad resent toxic fed"
    ),
    "sadness": words(
        "sad sadness unhappy lonely lost loss cry cried depressed disappointed disappointing hurt "
        "heartbroken miss missed regret failure failed grief tired exhausted burnout"
    ),
    "trust": words(
        "trust trusted reliable honest honesty authentic genuine credible credibility consistent "
        "consistency loyal respect respected proof depend dependable integrity transparent "
        "relationship relationships community"
    ),
}

ORG_SUFFIXES: frozenset[str] = words(
    "inc ltd llc llp corp corporation company co group labs lab bank university college institute "
    "school media technologies technology tech ventures capital studios studio foundation partners "
    "solutions systems network networks agency academy pvt limited"
)
KNOWN_ORGS: frozenset[str] = (
    words("""linkedin google microsoft instagram youtube twitter x meta facebook amazon flipkart zomato swiggy
    infosys tcs wipro reliance tata paytm byju's byjus netflix openai apple nykaa ola uber razorpay
    zerodha cred hdfc icici sbi airtel jio whatsapp telegram slack canva notion spotify hubspot
    mckinsey deloitte accenture nasscom iit iim isro""")
)
KNOWN_LOCATIONS: frozenset[str] = (
    words("""india bharat mumbai bombay delhi bengaluru bangalore pune hyderabad chennai kolkata ahmedabad
    jaipur lucknow chandigarh indore bhopal surat nagpur kochi goa gurgaon gurugram noida patna
    kanpur coimbatore mysuru mysore varanasi amritsar dehradun maharashtra karnataka kerala punjab
    gujarat rajasthan bihar tamil nadu telangana bengal usa america london dubai singapore
    canada australia germany japan china europe asia africa california york paris tokyo sydney
    toronto""")
)
PERSON_CUES: frozenset[str] = words(
    "mr mrs ms dr prof friend mentor founder ceo boss manager colleague brother sister mother father "
    "uncle aunty client coach"
)
NON_ENTITY_CAPITALS: frozenset[str] = (
    words("""i i'm i've i'd i'll monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december ok okay hi hello yes no
    so and but or the a an this that these those it my our your we you they he she english hindi
    hinglish
    diwali holi""")
)

HINDI_MARKERS: frozenset[str] = words(
    "hai hain nahi nahin kya aur bhi yaar dosto bilkul ekdum samjho matlab accha acha theek thik "
    "karo karna kar raha rahe bahut bhai ji toh kyunki lekin abhi sab"
)
# Hindi function words and light verbs seen in Latin-script Hinglish: never a topic, keyword or hashtag.
HINGLISH_FUNCTION_WORDS: frozenset[str] = HINDI_MARKERS | words(
    "aaj hum baat karenge karte ke ki ka ko se mein baare yeh woh lo le liye tak jata jaata jati hota hoti ho "
    "bas itna pasand aaya milte sabse pehle doosri doosra kam alag hamesha chahiye jaana mehenga banao rakho "
    "wala wali wale namaste haan ek do teen pe par hi tha thi the gaya gayi apna apni aapka mera meri "
    # as core.ai.transliteration spells Devanagari ("क्यों" → "kyon", "उसको" → "usako")
    "kyon ham usako usaka usake unake unaka unako aapako aapaki aapake doston har chahe na jab tab aata "
    "aati lagata lagati dekhate dekho karen kare apane apani uthana main "
    "kee kaa hee kyunki kyonki hain hai nahi nahin aur lekin bhi toh to jo vah yah ise use inhe unhe "
    "banate banata banati bante hote aate kaise kya kab kahan kijiye keejie dijiye deejie lie gae gaye "
    "sabase pahale pehli pahali doosari teesari teesri baat log cheez asali asli zyaadaatar zyadatar"
)

# Words about the talk's structure, not its subject: never a topic or a hashtag on their own.
TALK_WORDS: frozenset[str] = words(
    "lesson lessons tip tips point points step steps rule rules question questions answer story example "
    "talk talks session video videos podcast episode thing things idea challenge reply replies"
)

# Pronouns that point back at an earlier sentence ('It doubles ...', 'They left ...').
BACK_REFERENCES: frozenset[str] = words("this that these those it they them he she its their")
# A sentence opening on one of these leans on what came before, so it cannot stand alone: not as a hook, a
# quote or a clip's first sentence. Callers add the openers that are dangling only for them.
DANGLING_STARTS: frozenset[str] = BACK_REFERENCES | words("him her which also then there")
