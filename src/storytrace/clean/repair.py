"""Text repair: mojibake (ftfy) and template leftovers, each reported as a note."""

from __future__ import annotations

import re
import unicodedata

from ftfy import TextFixerConfig, chardata, fixes
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS

# Keep the text's own typography: quotes stay curly, full-width stays full-width. Only broken
# encodings, HTML entities and control characters are repaired.
_FTFY = TextFixerConfig(
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization=None,
    explain=True,
)


# The code points remove_control_chars translates (it deletes them): a text without any of
# them, it returns unchanged.
_FTFY_CONTROLS = re.compile("[" + "".join(map(re.escape, map(chr, sorted(CONTROL_CHARS)))) + "]")


def _remove_control_chars(text: str) -> str:
    """ftfy.fixes.remove_control_chars: str.translate with a table that deletes 40 code points,
    which costs 0.1 us a character on non-ASCII text; a search for them first costs a tenth."""
    return fixes.remove_control_chars(text) if _FTFY_CONTROLS.search(text) else text


# The fixers ftfy.fix_and_explain runs after the encoding search, in its order (ftfy 6.2-6.3),
# each where the config turns it on. tests/test_clean.py checks _fix_and_explain against
# fix_and_explain.
_FIXERS_AFTER_ENCODING = tuple(
    (name, _remove_control_chars if name == "remove_control_chars" else getattr(fixes, name))
    for name in (
        "fix_c1_controls",
        "fix_latin_ligatures",
        "fix_character_width",
        "uncurl_quotes",
        "fix_line_breaks",
        "fix_surrogates",
        "remove_terminal_escapes",
        "remove_control_chars",
    )
)
# UTF-8 read as Latin-1/Windows-1252 leaves a lead byte (Â..ô) before a continuation byte
# (U+0080..U+00BF or its cp1252 look-alike): the cheap test that decides whether ftfy runs. Also
# HTML entities and control characters. Written as one character class (a lead byte, "&" or a
# control character) and then a check of what follows: a pattern that starts with a class lets
# the regex engine skip ahead to candidate characters, where an alternation is tried at every
# position (three times slower on AEB and Multi-News). Same matches as the plain alternation.
_LEAD = "\u00c2-\u00f4"
_CONTINUATION = (
    "\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030"
    "\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161"
    "\u203a\u0153\u017e\u0178"
)
_CONTROL = "\x00-\x08\x0b\x0e-\x1f\x7f"
_MOJIBAKE = re.compile(
    f"[{_LEAD}&{_CONTROL}](?:(?<=[{_LEAD}])[{_CONTINUATION}]"
    f"|(?<=&)(?:#\\d{{2,6}}|#x[0-9a-fA-F]{{2,5}}|[a-zA-Z]{{2,8}});|(?<=[{_CONTROL}]))"
)
# Every match of _MOJIBAKE starts with a lead character (U+00C2..U+00F4, byte C3 in UTF-8), "&"
# or a control character (the same byte in UTF-8, never part of a longer sequence): a text whose
# UTF-8 holds none of those bytes has no match. Two byte searches and a byte deletion cost half
# the regex search, which scans the text character by character (bench/dedup.py's texts).
_CONTROL_BYTES = bytes(c for c in range(128) if re.match(f"[{_CONTROL}]", chr(c)))
# "{dollars}", "{name}": a spinner's or template's placeholder left in the text.
_TEMPLATE = re.compile(r"\{[a-z_]{2,24}\}")


def _may_hold_mojibake(text: str) -> bool:
    """False when _MOJIBAKE cannot match `text` (True does not mean it does)."""
    data = text.encode("utf-8", "surrogatepass")
    return (
        b"\xc3" in data
        or b"&" in data
        or len(data.translate(None, _CONTROL_BYTES)) != len(data)
    )


# ftfy's encoding search scans a text it cannot fix (or a fixed one) whole, several times a
# step, with patterns of alternatives that each start with a character class: the regex engine
# tries every alternative at every position. On bench/dedup.py's corpus, 88 texts of ~32 kB
# (0.4% of them) took 20% of the dedup run's CPU there. The same answers, cheaper:
#  - every match of ftfy's badness pattern holds a non-ASCII character and is at most
#    _BADNESS_SPAN characters long: it is searched for only around runs of non-ASCII text;
#  - a match of its UTF-8 detector starts with a non-ASCII character, and its first repetition
#    (all a match needs) is at most _DETECTOR_SPAN characters long: searched from each run;
#  - its two byte patterns written as one class of first bytes and then each alternative, in
#    the same order, behind a lookbehind on that byte: the engine skips to candidate bytes,
#    and the matches are the same (leftmost, the same alternative).
# tests/test_clean.py checks each claim against ftfy's own patterns.
_BADNESS_SPAN = 7
_DETECTOR_SPAN = 4
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ALTERED_UTF8 = re.compile(
    b"[\xc2\xc3\xc5\xce\xd0\xd9\xe0-\xe3\xf0]"
    b"(?:(?<=[\xc2\xc3\xc5\xce\xd0\xd9])[ ]"
    b"|(?<=[\xe2\xe3])[ ][\x80-\x84\x86-\x9f\xa1-\xbf]"
    b"|(?<=[\xe0-\xe3])[\x80-\x84\x86-\x9f\xa1-\xbf][ ]"
    b"|(?<=[\xf0])[ ][\x80-\xbf][\x80-\xbf]"
    b"|(?<=[\xf0])[\x80-\xbf][ ][\x80-\xbf]"
    b"|(?<=[\xf0])[\x80-\xbf][\x80-\xbf][ ])"
)
_LOSSY_UTF8 = re.compile(
    b"[\xc2-\xf4\x1a]"
    b"(?:(?<=[\xc2-\xdf])[\x1a]"
    b"|(?<=[\xc2-\xc3])[?]"
    b"|(?<=\xed)[\xa0-\xaf][\x1a?]\xed[\xb0-\xbf][\x1a?\x80-\xbf]"
    b"|(?<=\xed)[\xa0-\xaf][\x1a?\x80-\xbf]\xed[\xb0-\xbf][\x1a?]"
    b"|(?<=[\xe0-\xef])[\x1a?][\x1a\x80-\xbf]"
    b"|(?<=[\xe0-\xef])[\x1a\x80-\xbf][\x1a?]"
    b"|(?<=[\xf0-\xf4])[\x1a?][\x1a\x80-\xbf][\x1a\x80-\xbf]"
    b"|(?<=[\xf0-\xf4])[\x1a\x80-\xbf][\x1a?][\x1a\x80-\xbf]"
    b"|(?<=[\xf0-\xf4])[\x1a\x80-\xbf][\x1a\x80-\xbf][\x1a?]"
    b"|(?<=\x1a))"
)


def _is_bad(text: str) -> bool:
    """ftfy.badness.is_bad(text): BADNESS_RE searched only where a match can be."""
    if text.isascii():
        return False
    search = BADNESS_RE.search
    reach = _BADNESS_SPAN - 1
    lo, hi = 0, -1
    for run in _NON_ASCII.finditer(text):
        start, end = run.start() - reach, run.end() + reach
        if start > hi:
            if hi >= 0 and search(text, lo, hi):
                return True
            lo = max(start, 0)
        hi = end
    return search(text, lo, hi) is not None


def _may_hold_inconsistent_utf8(text: str) -> bool:
    """bool(chardata.UTF8_DETECTOR_RE.search(text)), searched from each run of non-ASCII text
    to _DETECTOR_SPAN - 1 characters past it (the lookbehind still sees the text before)."""
    search = chardata.UTF8_DETECTOR_RE.search
    reach = _DETECTOR_SPAN - 1
    return any(search(text, run.start(), run.end() + reach) for run in _NON_ASCII.finditer(text))


def _fix_encoding_and_explain(text: str, config: TextFixerConfig) -> tuple[str, list]:
    """ftfy.fix_encoding_and_explain(text, config) as ftfy 6.2-6.3 runs it: the same steps in
    the same order, with the searches above in place of ftfy's whole-text ones."""
    if not config.fix_encoding:
        return text, []
    plan: list = []
    while True:
        previous = text
        text, steps = _fix_encoding_one_step(text, config)
        plan.extend(steps)
        if text == previous:
            return text, plan


def _fix_encoding_one_step(text: str, config: TextFixerConfig) -> tuple[str, list]:
    """ftfy's _fix_encoding_one_step_and_explain (6.2-6.3), step for step."""
    if not text or chardata.possible_encoding(text, "ascii") or not _is_bad(text):
        return text, []
    possible_1byte_encodings = []
    for encoding in chardata.CHARMAP_ENCODINGS:
        if chardata.possible_encoding(text, encoding):
            possible_1byte_encodings.append(encoding)
            encoded_bytes = text.encode(encoding)
            transcode_steps = []
            try:
                decoding = "utf-8"
                if (config.restore_byte_a0 and encoding != "macroman"
                        and _ALTERED_UTF8.search(encoded_bytes)):
                    replaced_bytes = fixes.restore_byte_a0(encoded_bytes)
                    if replaced_bytes != encoded_bytes:
                        transcode_steps.append(("transcode", "restore_byte_a0"))
                        encoded_bytes = replaced_bytes
                if config.replace_lossy_sequences and encoding.startswith("sloppy"):
                    replaced_bytes = _LOSSY_UTF8.sub("\ufffd".encode(), encoded_bytes)
                    if replaced_bytes != encoded_bytes:
                        transcode_steps.append(("transcode", "replace_lossy_sequences"))
                        encoded_bytes = replaced_bytes
                if 0xED in encoded_bytes or 0xC0 in encoded_bytes:
                    decoding = "utf-8-variants"
                fixed = encoded_bytes.decode(decoding)
                return fixed, [("encode", encoding), *transcode_steps, ("decode", decoding)]
            except UnicodeDecodeError:
                pass
    if config.decode_inconsistent_utf8 and _may_hold_inconsistent_utf8(text):
        fixed = fixes.decode_inconsistent_utf8(text)
        if fixed != text:
            return fixed, [("apply", "decode_inconsistent_utf8")]
    if "latin-1" in possible_1byte_encodings:
        if "windows-1252" in possible_1byte_encodings:
            return text, []
        try:
            fixed = text.encode("latin-1").decode("windows-1252")
            if fixed != text:
                return fixed, [("encode", "latin-1"), ("decode", "windows-1252")]
        except UnicodeDecodeError:
            pass
    if config.fix_c1_controls and chardata.C1_CONTROL_RE.search(text):
        return fixes.fix_c1_controls(text), [("transcode", "fix_c1_controls")]
    return text, []


def _fix_and_explain(text: str, config: TextFixerConfig = _FTFY) -> tuple[str, set[str]]:
    """ftfy.fix_and_explain(text, config): the fixed text and the names of its steps, the same
    answer, without repeating a search whose answer is known.

    fix_and_explain repeats its fixers until a round changes nothing, so a text that needed a
    fix goes through every fixer at least twice, the second time mostly on what that fixer
    answered the first time. ftfy's encoding search (fix_encoding_and_explain) ends only on a
    step that leaves its text unchanged, and is deterministic: given its answer again, it
    returns it unchanged, with no step it did not already report. So it does not run again on
    its own answer. On a 35 kB article whose repaired text still looks odd to ftfy
    (bench/dedup.py's Multi-News corpus), each search tries and fails every single-byte codec:
    with _remove_control_chars, about 50 ms -> 25 ms a text.
    """
    # unescape_html="auto": HTML entities unless the text has tags
    unescape = bool(config.unescape_html) and not (config.unescape_html == "auto" and "<" in text)
    fixers = [(name, fixer) for name, fixer in _FIXERS_AFTER_ENCODING if getattr(config, name)]
    steps: set[str] = set()
    encoded = None  # the encoding search's last answer
    while True:
        original = text
        if unescape:
            fixed = fixes.unescape_html(text)
            if fixed != text:
                steps.add("unescape_html")
                text = fixed
        if text != encoded:
            text, plan = _fix_encoding_and_explain(text, config)
            steps.update(step for _kind, step in plan)
            encoded = text
        for name, fixer in fixers:
            fixed = fixer(text)
            if fixed != text:
                steps.add(name)
                text = fixed
        if config.normalization is not None:
            fixed = unicodedata.normalize(config.normalization, text)
            if fixed != text:
                steps.add(config.normalization)
                text = fixed
        if text == original:
            return text, steps


def repair_text(text: str) -> tuple[str, list[str]]:
    """The text with mojibake and entities fixed by ftfy, and notes on what was found."""
    notes: list[str] = []
    if _may_hold_mojibake(text) and _MOJIBAKE.search(text):
        fixed, steps = _fix_and_explain(text)
        if fixed != text:
            notes.append(f"text repaired by ftfy ({', '.join(sorted(steps)) or 'encoding'})")
            text = fixed
    leftovers = sorted(set(_TEMPLATE.findall(text))) if "{" in text else []
    if leftovers:
        notes.append(f"template leftovers: {', '.join(leftovers)}")
    return text, notes
