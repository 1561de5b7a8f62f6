"""What a number is about: the name or noun phrase it is syntactically tied to.

Rules, tried in order, each a common shape of news prose:
  1. premodifier   "the $3 billion Merida Initiative", "the 13-year-old Merida Initiative"
  2. appositive    "the Merida Initiative, a 2008 pact"
  3. fronted       "Launched in 2007, the Merida Initiative ..."
  4. of/for/that   "13 years of Mérida", "$3 billion for the program", "15 years that Merida has"
  5. relative      "the Merida Initiative, under which the United States channeled $3.3 billion"
  6. nearest name in the sentence, before the number first.
"The program", "the pact" and similar definite noun phrases stand for the latest name in the
document whose head is of the same sort ("Merida Initiative": an initiative is a programme).
"""

from __future__ import annotations

import re

from storytrace.facts.entities import Span, fold, names

# Heads of names that a later "the <noun>" can refer back to, grouped by what they are.
_SORTS = {
    "programme": {"program", "programme", "initiative", "scheme", "plan", "project", "fund",
                  "facility", "strategy", "policy", "mission", "campaign", "operation"},
    "agreement": {"pact", "agreement", "deal", "accord", "treaty", "convention", "protocol",
                  "partnership", "alliance", "charter", "act", "law", "bill"},
    "company": {"company", "firm", "group", "corporation", "corp", "inc", "bank", "lender",
                "carrier", "airline", "maker", "retailer", "insurer", "holdings", "ltd", "plc"},
    "body": {"agency", "ministry", "department", "commission", "council", "committee",
             "court", "office", "authority", "organization", "organisation", "union", "board",
             "parliament", "congress", "senate", "institution", "institute", "university"},
}  # fmt: skip
SORT_OF = {noun: sort for sort, nouns in _SORTS.items() for noun in nouns}
# An initiative, a programme and a pact are often the same thing told two ways.
_COMPATIBLE = {("programme", "agreement"), ("agreement", "programme")}
_DEFINITE = re.compile(r"\b(?:the|this|that)\s+(?P<noun>[a-z]+)\b")


def sort_of(name: str) -> str | None:
    """The sort of thing a name is, from its last word ("Merida Initiative" -> "programme")."""
    last = fold(name).split()[-1] if name.strip() else ""
    return SORT_OF.get(last.strip(".,"))


def candidates(sentence: str, earlier_names: list[str]) -> list[Span]:
    """Names in the sentence, plus definite noun phrases ("the program") resolved to the latest
    earlier name of a compatible sort; `earlier_names` is the document's names so far, in order."""
    found = names(sentence)
    for m in _DEFINITE.finditer(sentence):
        sort = SORT_OF.get(m.group("noun"))
        if sort is None or any(c.start <= m.start("noun") < c.end for c in found):
            continue
        seen_before = earlier_names + [c.text for c in found if c.end <= m.start()]
        for name in reversed(seen_before):
            other = sort_of(name)
            if other == sort or (other, sort) in _COMPATIBLE:
                found.append(Span(name, m.start(), m.end()))
                break
    return sorted(found, key=lambda c: c.start)


_DETERMINER_BEFORE = re.compile(
    r"(?:\b(?:the|a|an|its|their|his|her|our|this|that)|’s|'s)\s+$", re.IGNORECASE
)
_APPOSITIVE_GAP = re.compile(r"^\s*,\s*(?:a|an|the)\s+(?:[\w-]+\s+){0,3}$")
_FRONTED = re.compile(r"^\W*[A-Z][a-z]+(?:ed|en)\b[^,]*,\s*(?:(?:the|a|an)\s+)?$")
_RELATIVE_GAP = re.compile(r"^\s*,\s*(?:[a-z]+\s+)?(?:which|whose)\b[^,;]*$")
_OF_FOR = re.compile(r"^\s*(?:of|for|that|since)\s+(?:(?:the|a|an)\s+)?$")


# "A permanent repair is expected ...", "An everlasting restore won't be ...": the subject noun
# phrase of a clause, a determiner and up to four lowercase words before its verb.
_SUBJECT = re.compile(
    r"\b(?:[Tt]he|[Aa]n?|[Ii]ts|[Tt]heir|[Hh]is|[Hh]er|[Oo]ur|[Tt]his|[Tt]hat)\s+"
    r"(?P<phrase>(?:[a-z][\w-]*\s+){0,3}?"
    r"[a-z][\w-]*)\s+(?:is|are|was|were|will|would|should|could|can|may|might|must|shall|has|"
    r"have|had|did|does|won[’']t|wouldn[’']t|isn[’']t|aren[’']t|wasn[’']t|weren[’']t|"
    r"didn[’']t|doesn[’']t|can[’']t|remains?|needs?)\b"
)
CLAUSE_WINDOW = 2000  # characters: a clause of news prose is a few hundred at most
_NOT_IN_PHRASE = {
    "a", "an", "the", "this", "that", "its", "their", "of", "in", "on", "at", "to", "for", "by",
    "with", "from", "and", "or", "but", "which", "who", "it", "he", "she", "they", "we", "there",
    "said", "says", "told", "also", "not", "first", "last", "same",
}  # fmt: skip


def subject_phrase(sentence: str, start: int) -> Span | None:
    """The common noun phrase the clause holding sentence[start:] is about, when the clause
    opens with one ("A permanent repair is expected to be completed by April 15" -> "permanent
    repair"); None when a comma, semicolon or the sentence start comes first."""
    # Only the clause is read, and of a clause longer than CLAUSE_WINDOW characters its end:
    # reading the whole sentence for each date made a sentence of thousands of dates quadratic.
    lo = max(0, start - CLAUSE_WINDOW)
    clause_start = max(sentence.rfind(",", lo, start), sentence.rfind(";", lo, start), lo - 1) + 1
    clause = re.sub(r"[{}|]", " ", sentence[clause_start:start])  # a spinner's "{that a}"
    position = 0
    while m := _SUBJECT.search(clause, position):
        words = m.group("phrase").split()
        if not set(words) & _NOT_IN_PHRASE:
            return Span(" ".join(words), clause_start + m.start("phrase"),
                        clause_start + m.end("phrase"))
        position = m.start() + 1  # "that a restore won't": try "a restore" next
    return None


def attach(sentence: str, start: int, end: int, found: list[Span]) -> Span | None:
    """The candidate a fact at sentence[start:end] is about, by the rules in the module doc."""
    before = [c for c in found if c.end <= start]
    after = [c for c in found if c.start >= end]
    is_age = sentence[start:end].lower().endswith("-old")
    # 1. premodifier: a determiner, the number, then the name
    if (
        after
        and not sentence[end : after[0].start].strip()
        and (
            _DETERMINER_BEFORE.search(sentence[:start])
            or is_age
            or sentence[start:end].endswith("-year")
        )
    ):
        noun = re.match(r"^\s+([a-z]+)\b", sentence[after[0].end :])
        if is_age and " " not in after[0].text and noun:
            # "a 15-year-old Greek boy": the boy, not "Greek"
            return Span(
                f"{after[0].text} {noun.group(1)}", after[0].start, after[0].end + noun.end(1)
            )
        return after[0]
    if is_age:
        # an unnamed person's age: "an 18-year-old friend" is about the friend; "the
        # 10-year-old's death" about no name nearby
        noun = re.match(r"^\s+([a-z]+)\b", sentence[end:])
        return Span(noun.group(1), end + noun.start(1), end + noun.end(1)) if noun else None
    # 2. appositive: "<name>, a 2008 pact"
    for c in reversed(before):
        if _APPOSITIVE_GAP.match(sentence[c.end : start]):
            return c
    # 3. fronted participle: "Launched in 2007, the <name>"
    if (
        after
        and _FRONTED.match(sentence[: after[0].start])
        and "," in sentence[end : after[0].start]
    ):
        return after[0]
    # 4. "13 years of <name>", "$3 billion for the program", "15 years that <name> has"
    if after and _OF_FOR.match(sentence[end : after[0].start]):
        return after[0]
    # 5. relative clause: "<name>, under which ... $3.3 billion"
    for c in reversed(before):
        if _RELATIVE_GAP.match(sentence[c.end : start]):
            return c
    # 6. nearest name: before the number, else after it
    if before:
        return before[-1]
    return after[0] if after else None
