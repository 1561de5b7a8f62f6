"""Attribution: statements in a text about who wrote or supplied it.

Patterns follow the conventions of news copy, not any one site: a byline line ("By Simon
Lewis"), an agency dateline ("MEXICO CITY, Oct. 8 (Reuters) -", "(AP) —"), a credit block
("Reporting by ...; Editing by ..."), a contributor line ("CNN's Ellie Kaufman contributed to
this report."), a citation of another outlet ("told the Reuters news agency", "according to
the Associated Press") and a scraper's "Source link". Outlets come from `outlets.OUTLETS`.
Nothing here depends on boilerplate around the statement being present or absent.
"""

from __future__ import annotations

import re

from storytrace.clean.markers import may_match
from storytrace.model import Attribution
from storytrace.trace.outlets import alias_pattern, outlet_named

_NAME_WORD = r"(?:[A-Z][a-zA-Z'’\-]+\.?|[A-Z]\.)"
_PARTICLE = r"(?:de|da|del|della|van|von|der|al|bin|la|le|di|du|dos|ibn)"
_PERSON = re.compile(rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{1,3}}")

_PROSE_OUTLET = alias_pattern(in_prose=True)
_ANY_OUTLET = alias_pattern(in_prose=False)

# "(Reuters) -", "(AP) —", "(CNN)": a parenthesised source near the start of a line, preceded
# only by a place and/or a date ("MEXICO CITY, Oct. 8").
_DATELINE = re.compile(
    r"^(?P<prefix>[^()\n]{0,80}?)\s*\((?P<name>[A-Za-z][A-Za-z .&'’\-]{0,40}?)\)\s*(?P<dash>[-–—:])?"
)
_CREDIT_ROLE = re.compile(
    r"(?P<role>[Aa]dditional [Rr]eporting|Reporting|Writing|Written|Editing|Edited|"
    r"Compiled|Produced|Graphics|Fact-checking)\s+by\s+"
)
_CREDIT_START = re.compile(
    r"(?:^|(?<=[(\s.;,]))(?:Additional reporting|Reporting|Writing|Editing)\s+by\s+[A-Z]"
)
_BYLINE = re.compile(r"^\s*(?:By|BY)\s+(?P<rest>\S.{0,120})$")
_CONTRIBUTOR = re.compile(
    r"(?P<who>[^.!?\n]{1,160}?)\s+(?:also\s+)?contributed\s+(?:to\s+this\s+(?:report|story|article)"
    r"|reporting|additional reporting|to\s+this\s+(?:report|story))"
)
_CITES = re.compile(
    rf"\b(?:told|said[.,]?\s+to|according\s+to|reported\s+by|speaking\s+to|in\s+an\s+interview\s+"
    rf"with|quoted\s+by|cited\s+by|to)\s+(?:the\s+)?(?P<name>{_PROSE_OUTLET})"
    rf"(?P<agency>\s+news\s+agency|\s+newspaper|\s+television|\s+TV)?\b"
)
_CITES_REPORTED = re.compile(
    rf"\b(?:the\s+)?(?P<name>{_PROSE_OUTLET})\s+(?:news\s+agency\s+)?(?:reported|reports)\b"
)
_SOURCE_LINK = re.compile(
    r"^\s*(?:(?P<link>Source\s+(?:link|hyperlink))\b\s*[:\-–]?|(?P<label>Source|Original\s+"
    r"(?:article|source)|Via)\s*(?::|$|(?=\s+https?://))|(?P<first>Originally\s+(?:published|"
    r"posted)|This\s+(?:article|story)\s+(?:was|has\s+been)\s+(?:originally\s+)?(?:published|"
    r"posted))\b)\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_OUTLET_IN = re.compile(rf"\b(?:{_ANY_OUTLET})(?=\b|’|')")
_PLACE_IN_CREDIT = re.compile(r"\s+(?:in|from)\s+[A-Z].*$")
# Job titles that precede a name in credits ("Staff writer Jane Doe", "Medical Fellow Ann Roe").
_NOT_NAMES = {
    "The", "And", "Staff", "Writer", "Writers", "Correspondent", "Editor", "Reporter", "Intern",
    "Fellow", "Medical", "Special", "Senior", "Associate", "Producer", "Photographer", "Graphic",
    "Designer", "Contributing", "Freelance", "Journalist", "Researcher",
}  # fmt: skip


def find_attribution(text: str) -> list[Attribution]:
    """Every attribution statement in `text`, in reading order, with its outlet and people."""
    found: list[tuple[int, Attribution]] = []
    offset = 0
    for line in text.split("\n"):
        found.extend((offset + pos, a) for pos, a in _line_attributions(line))
        offset += len(line) + 1
    found.sort(key=lambda item: item[0])
    return [a for _, a in found]


def _line_attributions(line: str) -> list[tuple[int, Attribution]]:
    out: list[tuple[int, Attribution]] = []
    stripped = line.strip()
    if not stripped:
        return out
    byline = _byline(stripped)
    if byline:
        out.append((0, byline))
    dateline = _dateline(line)
    if dateline:
        out.append((0, dateline))
    # Each pattern below is searched only where the strings it needs are (clean.markers.
    # may_match): "reported", "Reporting by"... are in few lines, and _CITES_REPORTED tries
    # every outlet's name at every word; _CONTRIBUTOR 160 characters before every position.
    found: dict[str, bool] = {}
    credit = _CREDIT_START.search(line) if may_match(line, _CREDIT_START, found) else None
    if credit:
        block = line[credit.start() :].strip().rstrip(")").strip()
        people = [p for role, names in credited_roles(block) for p in names]
        if people:
            outlet = _first_outlet(block)
            out.append((credit.start(), Attribution("reporting", block, outlet, _unique(people))))
    for match in _CONTRIBUTOR.finditer(line) if may_match(line, _CONTRIBUTOR, found) else ():
        who = match.group("who").strip()
        who = re.split(r"(?:^|\s)[\"“(]", who)[-1].strip()
        outlet = _first_outlet(who)
        people = _people(_OUTLET_IN.sub(" ", who.replace("’s", "").replace("'s", "")))
        if outlet or people:
            out.append(
                (match.start(), Attribution("contributor", _span(line, match), outlet, people))
            )
    cited: set[str] = set()
    for pattern in (_CITES, _CITES_REPORTED):
        for match in pattern.finditer(line) if may_match(line, pattern, found) else ():
            if (
                pattern is _CITES
                and match.group(0).lower().startswith("to ")
                and not match.group("agency")
            ):
                continue  # a bare "to Reuters" is too weak; "to the Reuters news agency" is not
            outlet = outlet_named(match.group("name"))
            if outlet and outlet not in cited:
                cited.add(outlet)
                out.append((match.start(), Attribution("cites", _sentence(line, match), outlet)))
    source = _SOURCE_LINK.match(stripped)
    if source and len(stripped) <= 200:
        out.append((0, Attribution("source-link", stripped, _first_outlet(source.group("rest")))))
    return out


def _byline(line: str) -> Attribution | None:
    """ "By Simon Lewis", "By JANE DOE and John Roe, Associated Press" -> a byline."""
    match = _BYLINE.match(line)
    if not match:
        return None
    rest = match.group("rest").strip()
    if rest.isupper():
        rest = rest.title()
    people: list[str] = []
    position = 0
    while True:
        name = _PERSON.match(rest, position)
        if not name or outlet_named(name.group()) or _OUTLET_WORD.search(name.group()):
            break
        person = name.group().rstrip(".")
        people.append(person.title() if person.isupper() else person)
        position = name.end()
        sep = re.match(r"\s*(?:,|and|&)\s*", rest[position:])
        if not sep:
            break
        position += sep.end()
    tail = rest[position:].strip()
    outlet = _first_outlet(tail)
    if outlet is None and tail:
        staff = _STAFF.match(tail)
        named = _PERSON.match(tail) or re.match(r"[A-Z][\w’'&-]+", tail)
        if staff:
            outlet = staff.group("outlet")
        elif named and _OUTLET_WORD.search(named.group()):
            outlet = named.group()
    if not people and not outlet:
        return None
    return Attribution("byline", line, outlet, people)


def _dateline(line: str) -> Attribution | None:
    """ "MEXICO CITY, Oct. 8 (Reuters) -" -> an agency dateline naming Reuters."""
    match = _DATELINE.match(line)
    if not match:
        return None
    prefix = match.group("prefix").strip()
    words = prefix.replace(",", " ").split()
    if any(not (w[0].isupper() or w[0].isdigit()) for w in words):
        return None  # prose before the parenthesis: not a dateline
    outlet = outlet_named(match.group("name"))
    name = match.group("name").strip()
    if outlet is None and not (match.group("dash") and _unlisted_agency(prefix, name)):
        return None
    if outlet is None:
        outlet = name  # an agency we do not list, written like one: "(ANP) -"
    return Attribution("agency", line[: match.end()].strip(), outlet)


def _unlisted_agency(prefix: str, name: str) -> bool:
    """An agency we do not list, written like one: "(ANP) -", or "PLACE, Date (Name) -"."""
    if name.isupper() and 2 <= len(name) <= 8:
        return True
    words = name.split()
    if not 1 <= len(words) <= 3 or not all(w[0].isupper() for w in words):
        return False
    # Title-case names need a full dateline before them: an upper-case place and a date.
    has_place = bool(re.search(r"\b[A-Z]{3,}\b", prefix))
    has_date = bool(_MONTH.search(prefix)) or bool(re.search(r"\b\d{4}-\d\d-\d\d\b", prefix))
    return has_place and has_date


_MONTH = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}\b"
)
# Words that make a name an outlet, not a person: "Fernmoor Gazette", "Daily Star".
_OUTLET_WORD = re.compile(
    r"\b(?:Gazette|Times|Post|News|Herald|Tribune|Journal|Ledger|Chronicle|Daily|Press|"
    r"Observer|Courier|Telegraph|Independent|Standard|Express|Mail|Agency|Wire|Magazine|"
    r"Review|Record|Register|Sentinel|Examiner|Bulletin|Dispatch|Monitor|Inquirer|Reporter|"
    r"Radio|Television|TV|Network|Media|Online)\b"
)
# "Ledger staff writer", "Gazette correspondent": an outlet named by the job after it.
_STAFF = re.compile(
    r"^(?:the\s+)?(?P<outlet>[A-Z][\w.’'&-]*(?:\s+[A-Z][\w.’'&-]*){0,3})\s+(?:staff\s+)?"
    r"(?:writer|reporter|correspondent|editor|contributor)s?\b"
)


def page_attribution(author: str | None, site: str | None) -> Attribution | None:
    """A byline from a page's own metadata (author, site name) when the text has none."""
    people = _unique([p.strip() for p in re.split(r"\s*(?:,|;|\band\b|&)\s*", author or "")
                      if _PERSON.fullmatch(p.strip())])
    if not people:
        return None
    text = "By " + ", ".join(people) + (f", {site}" if site else "") + " (page metadata)"
    return Attribution("byline", text, outlet_named(site or "") or site, people)


def credited_roles(block: str) -> list[tuple[str, list[str]]]:
    """A credit block split by role: "Reporting by A; Editing by B" -> [("reporting", [A]), ...].

    Works when a scraper glued the parts together ("WashingtonWriting by Drazen Jorgic").
    """
    roles = list(_CREDIT_ROLE.finditer(block))
    out: list[tuple[str, list[str]]] = []
    for n, match in enumerate(roles):
        end = roles[n + 1].start() if n + 1 < len(roles) else len(block)
        names = block[match.end() : end]
        role = match.group("role").lower()
        out.append((role, _credit_names(names)))
    return out


def _credit_names(segment: str) -> list[str]:
    people: list[str] = []
    for part in re.split(r"[;,&()]|\band\b", segment):
        part = _PLACE_IN_CREDIT.sub("", part.strip())
        name = _PERSON.match(part)
        if name and not _OUTLET_IN.search(name.group()):
            people.append(name.group().rstrip("."))
    return people


def _people(text: str) -> list[str]:
    names = []
    for match in _PERSON.finditer(text):
        words = [w.rstrip(".") for w in match.group().split() if w.title() not in _NOT_NAMES]
        if len(words) >= 2:
            names.append(" ".join(words))
    return _unique(names)


def _first_outlet(text: str) -> str | None:
    match = _OUTLET_IN.search(text)
    return outlet_named(match.group()) if match else None


def _span(line: str, match: re.Match[str]) -> str:
    end = line.find(".", match.end())
    return line[match.start() : end + 1 if end != -1 else len(line)].strip()


def _sentence(line: str, match: re.Match[str]) -> str:
    """The sentence around a match (at most 240 characters)."""
    previous = line.rfind(". ", 0, max(0, match.start() - 2))
    start = previous + 2 if previous != -1 else 0
    end = line.find(".", match.end())
    text = line[start : end + 1 if end != -1 else len(line)].strip()
    if len(text) > 240:
        text = "..." + text[-240:].split(" ", 1)[-1]
    return text


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
