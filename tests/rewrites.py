"""A rewrite generator for tests and benchmarks: the copies content farms make, from real text.

Each function takes an article (paragraphs separated by newlines) and a random generator and
returns a rewritten copy of one relation kind. The thesaurus here is this module's own and is
never imported by storytrace (its spin detector has a separate lexicon), so scores measured on
these rewrites are not circular.
"""

from __future__ import annotations

import json
import random
import re

from conftest import DATA

# Word -> replacements a synonym spinner would pick (lower-case; capitalisation is restored).
THESAURUS: dict[str, list[str]] = {
    "said": ["stated", "mentioned", "remarked"], "says": ["states", "mentions"],
    "told": ["informed", "advised"], "new": ["brand new", "recent", "contemporary"],
    "big": ["massive", "huge"], "large": ["sizable", "substantial"], "small": ["tiny", "little"],
    "important": ["essential", "crucial", "vital"], "help": ["assist", "support"],
    "show": ["present", "display"], "shows": ["presents", "displays"],
    "people": ["individuals", "folks"], "officials": ["officers", "authorities"],
    "government": ["authorities", "administration"], "country": ["nation"],
    "countries": ["nations"], "security": ["safety"], "agreement": ["settlement", "accord"],
    "deal": ["settlement", "pact"], "meeting": ["assembly", "gathering"],
    "year": ["yr", "12 months"], "years": ["years", "yrs"], "week": ["wk"],
    "month": ["30 days"], "hundreds": ["a whole bunch"], "thousands": ["hundreds"],
    "percent": ["p.c.", "per cent"], "police": ["law enforcement"], "report": ["document"],
    "reported": ["documented"], "began": ["started", "commenced"], "start": ["begin"],
    "end": ["finish", "conclusion"], "final": ["last", "closing"], "last": ["final", "previous"],
    "first": ["initial", "primary"], "major": ["main", "key"], "issue": ["problem", "concern"],
    "issues": ["problems", "points"], "however": ["nonetheless", "nevertheless"],
    "also": ["additionally", "moreover"], "about": ["roughly", "approximately"],
    "around": ["round", "roughly"], "many": ["quite a few", "numerous"],
    "several": ["a number of", "a couple of"], "because": ["as a result of", "since"],
    "despite": ["regardless of", "in spite of"], "during": ["throughout", "in the course of"],
    "against": ["in opposition to", "towards"], "after": ["following"], "before": ["prior to"],
    "expected": ["anticipated"], "announced": ["introduced", "declared"],
    "statement": ["assertion", "press release"], "recent": ["latest", "current"],
    "increase": ["enhance", "improve"], "decision": ["choice", "resolution"],
    "plan": ["scheme", "technique"], "plans": ["schemes", "intentions"],
    "company": ["firm", "agency"], "money": ["cash", "funds"], "home": ["house", "residence"],
    "found": ["discovered", "located"], "think": ["assume", "suppose"], "believe": ["consider"],
    "want": ["wish", "need"], "wanted": ["needed", "wished"], "need": ["want", "require"],
    "used": ["utilized", "employed"], "use": ["make use of", "utilize"], "make": ["create"],
    "made": ["created", "produced"], "get": ["receive", "obtain"], "got": ["received", "bought"],
    "went": ["headed", "proceeded"], "come": ["arrive"], "came": ["arrived"],
    "left": ["departed", "exited"], "case": ["matter", "instance"], "cases": ["circumstances"],
    "fight": ["battle", "struggle"], "killed": ["slain", "murdered"], "death": ["demise"],
    "died": ["passed away", "perished"], "attack": ["assault"], "attacks": ["assaults"],
    "leader": ["chief", "head"], "leaders": ["chiefs", "heads"], "early": ["premature"],
    "later": ["afterward", "subsequently"], "according": ["in keeping"], "court": ["courtroom"],
    "judge": ["decide"], "law": ["regulation", "legislation"], "laws": ["legal guidelines"],
    "vote": ["ballot"], "voters": ["electorate"], "campaign": ["marketing campaign"],
    "election": ["election", "vote"], "president": ["president"], "state": ["state"],
    "city": ["metropolis"], "capital": ["capital city"], "world": ["globe", "world"],
    "high": ["excessive", "elevated"], "low": ["decreased", "minimal"],
    "long": ["lengthy", "prolonged"], "hard": ["tough", "troublesome"], "easy": ["simple"],
    "change": ["alter", "modify"], "changes": ["modifications", "adjustments"],
    "support": ["assist", "back"], "released": ["launched", "freed"], "release": ["launch"],
    "children": ["kids", "youngsters"], "women": ["girls", "ladies"], "men": ["males", "guys"],
    "family": ["household"], "school": ["faculty"], "university": ["college"],
    "team": ["group", "squad"], "game": ["recreation", "match"], "season": ["season", "time"],
    "win": ["victory", "triumph"], "won": ["received", "gained"], "lost": ["misplaced"],
    "problem": ["drawback", "downside"], "question": ["query"], "questions": ["queries"],
    "huge": ["large", "big"], "really": ["actually", "truly"],
    "very": ["extremely", "highly"], "often": ["usually", "ceaselessly"],
    "still": ["nonetheless", "nonetheless"], "just": ["simply", "merely"],
    "while": ["whereas", "whilst"], "among": ["amongst"],
}

# Function-word changes of a round trip through another language.
FUNCTION_WORDS: dict[str, list[str]] = {
    "the": ["the", "the", "this", "that"], "of": ["of", "from"], "will": ["is going to", "shall"],
    "would": ["could"], "on": ["on", "in"], "at": ["in", "at"], "to": ["to", "for"],
    "but": ["however", "but"], "has": ["has", "had"], "is": ["is", "remains"],
    "and": ["and", "as well as"], "with": ["with", "together with"], "by": ["by", "through"],
}

WRAPPER_HEADS = [
    "Home | News | World | Business | Sport", "Breaking News", "Advertisement",
    "Posted by admin on {n} January 2024", "Share this article: Facebook Twitter Email",
]
WRAPPER_TAILS = [
    "Source link", "Read more at the original site.", "Related posts:",
    "Leave a Reply. Your email address will not be published.", "Copyright {n} All rights reserved.",
]

_SENT = re.compile(r"(?<=[.!?])[”\"’]?\s+(?=[“\"A-Z])")


def load_articles(min_words: int = 150, distinct: bool = True) -> list[dict]:
    """Multi-News dev articles (id, text, story) with at least `min_words` words.

    Multi-News itself holds a few copies (one wire story scraped from two sites). With
    `distinct`, an article sharing 20% or more of its word 5-grams with an earlier one is
    left out, so the articles that remain are truly different (exact sets, no MinHash).
    """
    rows = [json.loads(line) for line in (DATA / "multinews" / "dev.jsonl").open()]
    rows = [r for r in rows if len(r["text"].split()) >= min_words]
    if not distinct:
        return rows
    kept: list[dict] = []
    kept_grams: list[set[str]] = []
    for row in rows:
        toks = re.findall(r"\w+", row["text"].lower())
        grams = {" ".join(toks[i : i + 5]) for i in range(len(toks) - 4)}
        if all(len(grams & g) < 0.2 * min(len(grams), len(g)) for g in kept_grams):
            kept.append(row)
            kept_grams.append(grams)
    return kept


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _case_like(src: str, word: str) -> str:
    return word[0].upper() + word[1:] if src[:1].isupper() else word


def _substitute(text: str, table: dict[str, list[str]], rate: float, rng: random.Random) -> str:
    def repl(m: re.Match) -> str:
        w = m.group()
        options = table.get(w.lower())
        if not options or rng.random() > rate:
            return w
        return _case_like(w, rng.choice(options))
    return re.sub(r"[A-Za-z]+", repl, text)


def verbatim(text: str, rng: random.Random) -> str:
    return text


def wrapped(text: str, rng: random.Random) -> str:
    n = rng.randint(2000, 2030)
    head = [h.format(n=n) for h in rng.sample(WRAPPER_HEADS, rng.randint(1, 2))]
    tail = [t.format(n=n) for t in rng.sample(WRAPPER_TAILS, rng.randint(1, 2))]
    return "\n".join(head + paragraphs(text) + tail)


def truncated(text: str, rng: random.Random) -> str:
    """The first 30-70% of the article (a preview), cut at a word inside a sentence."""
    words = text.split(" ")
    keep = int(len(words) * rng.uniform(0.3, 0.7))
    return " ".join(words[:keep]).rstrip() + " ..."


def edited(text: str, rng: random.Random) -> str:
    """An update: a changed number, a replaced sentence and an added paragraph."""
    paras = paragraphs(text)
    text = "\n".join(paras)
    text = re.sub(r"\b\d+\b", lambda m: str(int(m.group()) + rng.randint(1, 9))
                  if rng.random() < 0.3 else m.group(), text)
    paras = paragraphs(text)
    k = rng.randrange(len(paras))
    sents = _SENT.split(paras[k])
    sents[rng.randrange(len(sents))] = "This story has been updated with new details from officials."
    paras[k] = " ".join(sents)
    paras.insert(rng.randint(1, len(paras)),
                 "The latest figures were released late on the day and were confirmed by a "
                 "spokesperson who asked not to be named because the talks were private.")
    return "\n".join(paras)


def spun(text: str, rng: random.Random, rate: float = 0.7) -> str:
    """A synonym spinner: most thesaurus words replaced, quotes and names left alone."""
    parts = re.split(r"(“[^”]*”|\"[^\"]*\")", text)
    return "".join(p if i % 2 else _substitute(p, THESAURUS, rate, rng) for i, p in enumerate(parts))


def _shuffle_clauses(sentence: str, rng: random.Random) -> str:
    """'A, B.' -> 'B, a.' for a sentence with one comma (a translator's reordering)."""
    m = re.match(r"^([^,“\"]{15,}), ([^,“\"]{15,})([.!?])$", sentence)
    if not m or rng.random() < 0.5:
        return sentence
    first, second, end = m.groups()
    first = first[0].lower() + first[1:] if not first.split()[0].isupper() and \
        first.split()[0].lower() in {"the", "a", "an", "in", "on", "at", "but", "and", "after"} \
        else first
    return f"{second[0].upper()}{second[1:]}, {first}{end}"


def translated(text: str, rng: random.Random) -> str:
    """A round trip through another language: reordered sentences and clauses, changed
    function words, synonyms, "X said" inverted."""
    out = []
    for para in paragraphs(text):
        sents = _SENT.split(para)
        if len(sents) > 1 and rng.random() < 0.5:
            i = rng.randrange(len(sents) - 1)
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
        new = []
        for s in sents:
            s = _shuffle_clauses(s, rng)
            s = re.sub(r"\b([A-Z][a-z]+) said\b", lambda m: f"said {m.group(1)}"
                       if rng.random() < 0.5 else m.group(), s)
            s = _substitute(s, FUNCTION_WORDS, 0.35, rng)
            s = _substitute(s, THESAURUS, 0.35, rng)
            new.append(s)
        out.append(" ".join(new))
    return "\n".join(out)


def partial(text: str, host: str, rng: random.Random, share: float = 0.25) -> str:
    """`host` (another article) with 2-3 passages of `text` inserted, together at most `share`
    of `text`'s words: reuse of some passages, not a copy."""
    host_paras = paragraphs(host)
    budget = share * len(text.split())
    sents = [s for p in paragraphs(text) for s in _SENT.split(p) if len(s.split()) >= 8]
    rng.shuffle(sents)
    chosen: list[str] = []
    for s in sents:
        if len(chosen) == 3:
            break
        if sum(len(c.split()) for c in chosen) + len(s.split()) <= budget or len(chosen) < 2:
            chosen.append(s)
    for passage in chosen:
        host_paras.insert(rng.randint(0, len(host_paras)), passage)
    return "\n".join(host_paras)


WHOLE_KINDS = ("verbatim", "wrapped", "truncated", "edited", "spun", "translated")
REWRITERS = {"verbatim": verbatim, "wrapped": wrapped, "truncated": truncated,
             "edited": edited, "spun": spun, "translated": translated}


def rewrite_set(articles: list[dict], seed: int = 0, copies: int = 1, hosts: list[dict] | None = None):
    """Originals and rewrites: (docs, truth).

    docs: list of (id, text); truth: list of (original id, rewrite id, kind). Every original gets
    `copies` rewrites of kinds chosen in turn; the first len(hosts) originals also get one
    partial reuse, each inside its own host article (articles not otherwise in the set).
    """
    rng = random.Random(seed)
    docs, truth = [], []
    hosts = list(hosts or [])
    for n, art in enumerate(articles):
        docs.append((art["id"], art["text"]))
        for c in range(copies):
            kind = WHOLE_KINDS[(n * copies + c) % len(WHOLE_KINDS)]
            rid = f"{art['id']}~{kind}{c}"
            docs.append((rid, REWRITERS[kind](art["text"], rng)))
            truth.append((art["id"], rid, kind))
        if n < len(hosts):
            host = hosts[n]
            rid = f"{art['id']}~partial"
            docs.append((rid, partial(art["text"], host["text"], rng)))
            truth.append((art["id"], rid, "partial"))
    return docs, truth


CHAIN_KINDS = ("spun", "translated")


def copy_chains(articles: list[dict], seed: int = 0):
    """Families with known provenance: (docs, truth), docs [(id, text)] shuffled, truth
    {original: {member: (kind, parent)}} (the original's kind "origin", parent None).

    Every article gets one copy of each kind in turn; in every other round of kinds the family
    also gets a spun or translated copy (in turn) *of that copy*, whose parent is the copy.
    """
    rng = random.Random(seed)
    docs: list[tuple[str, str]] = []
    truth: dict[str, dict[str, tuple[str, str | None]]] = {}
    for n, article in enumerate(articles):
        original = article["id"]
        kind = WHOLE_KINDS[n % len(WHOLE_KINDS)]
        copy_id, copy_text = f"{original}~{kind}", REWRITERS[kind](article["text"], rng)
        docs += [(original, article["text"]), (copy_id, copy_text)]
        truth[original] = {original: ("origin", None), copy_id: (kind, original)}
        cycle = n // len(WHOLE_KINDS)
        if cycle % 2 == 0:
            second = CHAIN_KINDS[(cycle // 2) % len(CHAIN_KINDS)]
            second_id = f"{copy_id}~{second}"
            docs.append((second_id, REWRITERS[second](copy_text, rng)))
            truth[original][second_id] = (second, copy_id)
    rng.shuffle(docs)
    return docs, truth
