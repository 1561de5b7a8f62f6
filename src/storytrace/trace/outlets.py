"""Known news outlets and wire agencies, as data: canonical name -> the ways texts name them.

Used to read attribution ("(Reuters) -", "told the Associated Press", "CNN's Ellie Kaufman
contributed") and to judge provenance (a wire agency's dateline marks the original report).
Add an outlet by adding a line; longer aliases are matched first.
"""

from __future__ import annotations

import re

OUTLETS: dict[str, tuple[str, ...]] = {
    # Wire agencies
    "Reuters": ("Reuters", "Thomson Reuters"),
    "Associated Press": ("Associated Press", "AP"),
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse"),
    "Bloomberg": ("Bloomberg", "Bloomberg News"),
    "UPI": ("UPI", "United Press International"),
    "dpa": ("dpa", "DPA", "Deutsche Presse-Agentur"),
    "EFE": ("EFE",),
    "ANSA": ("ANSA",),
    "Xinhua": ("Xinhua",),
    "Kyodo": ("Kyodo", "Kyodo News"),
    "Jiji": ("Jiji", "Jiji Press"),
    "Yonhap": ("Yonhap",),
    "TASS": ("TASS",),
    "Interfax": ("Interfax",),
    "PTI": ("PTI", "Press Trust of India"),
    "ANI": ("ANI", "Asian News International"),
    "IANS": ("IANS",),
    "Anadolu": ("Anadolu", "Anadolu Agency"),
    "Canadian Press": ("Canadian Press", "CP"),
    "AAP": ("AAP", "Australian Associated Press"),
    "PA": ("PA Media", "Press Association"),
    "Dow Jones": ("Dow Jones", "Dow Jones Newswires"),
    "CNA": ("CNA",),
    # Broadcasters and papers that are often copied or cited
    "CNN": ("CNN",),
    "BBC": ("BBC", "BBC News"),
    "Al Jazeera": ("Al Jazeera",),
    "Al Arabiya": ("Al Arabiya",),
    "NPR": ("NPR",),
    "CNBC": ("CNBC",),
    "Fox News": ("Fox News",),
    "NBC News": ("NBC News", "NBC"),
    "ABC News": ("ABC News",),
    "CBS News": ("CBS News",),
    "Sky News": ("Sky News",),
    "Deutsche Welle": ("Deutsche Welle", "DW"),
    "France 24": ("France 24",),
    "The New York Times": ("The New York Times", "New York Times", "NYT"),
    "The Washington Post": ("The Washington Post", "Washington Post"),
    "The Wall Street Journal": ("The Wall Street Journal", "Wall Street Journal", "WSJ"),
    "Financial Times": ("Financial Times", "FT"),
    "The Guardian": ("The Guardian",),
    "Los Angeles Times": ("Los Angeles Times", "LA Times"),
    "USA Today": ("USA Today",),
    "Politico": ("Politico", "POLITICO"),
    "Axios": ("Axios",),
    "The Hill": ("The Hill",),
    "Nikkei": ("Nikkei", "Nikkei Asia"),
}

# Outlets whose business is supplying copy to others: their dateline marks an original report.
WIRE_AGENCIES = frozenset(
    {
        "Reuters", "Associated Press", "AFP", "Bloomberg", "UPI", "dpa", "EFE", "ANSA", "Xinhua",
        "Kyodo", "Jiji", "Yonhap", "TASS", "Interfax", "PTI", "ANI", "IANS", "Anadolu",
        "Canadian Press", "AAP", "PA", "Dow Jones", "CNA",
    }
)  # fmt: skip

# Aliases that are ordinary words or too short to trust outside a dateline "(AP) -".
_DATELINE_ONLY = frozenset({"AP", "CP", "PA Media", "DW", "FT", "CNA", "ANI"})

_ALIAS_TO_OUTLET = {alias: name for name, aliases in OUTLETS.items() for alias in aliases}
_ALIASES = sorted(_ALIAS_TO_OUTLET, key=len, reverse=True)


def alias_pattern(in_prose: bool = True) -> str:
    """A regex alternation of outlet names (longest first); `in_prose` leaves out risky ones."""
    aliases = [a for a in _ALIASES if not (in_prose and a in _DATELINE_ONLY)]
    return "|".join(re.escape(a) for a in aliases)


def outlet_named(text: str) -> str | None:
    """The canonical outlet a name refers to ("the Associated Press" -> "Associated Press")."""
    name = " ".join(text.split())
    bare = name[4:] if name.lower().startswith("the ") else name
    for candidate in (name, bare, "The " + bare):
        if candidate in _ALIAS_TO_OUTLET:
            return _ALIAS_TO_OUTLET[candidate]
    return None
