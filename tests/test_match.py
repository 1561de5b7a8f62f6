"""Match stage: fingerprints, alignment, relation kinds and spin/translation signals.

Quality floors are pinned here (trafilatura-style): a change that makes copy detection worse
on real Multi-News articles and their rewrites fails the suite.
"""

import itertools
import json
import random
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np
import pytest
import rewrites
import xxhash
from conftest import DATA, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storytrace.clean.markers import may_match, required_literals
from storytrace.cluster.components import group_of
from storytrace.fingerprint import (
    WordHasher,
    immutables,
    jaccard_estimate,
    ngram_hashes,
    optimal_bands,
    shingle_hashes,
    signatures,
    words,
)
from storytrace.match import (
    MatchOptions,
    align,
    candidate_pairs,
    document_signals,
    find_relations,
    relate,
)
from storytrace.match.align import sentences
from storytrace.match.signals import SPIN_MARKS, TRANSLATION_MARKS
from storytrace.model import WHOLE_COPY_KINDS


def _clean(text: str) -> str:
    """The clean stage's text when it can clean a plain text alone, else the text as is."""
    try:
        from storytrace.clean import clean_text  # type: ignore[attr-defined]

        out = clean_text(text)
        return getattr(out, "text", out)
    except (ImportError, NotImplementedError, TypeError):
        return text


@lru_cache(maxsize=1)
def seeds() -> dict[str, str]:
    return {p.name[:3]: _clean(p.read_text(encoding="utf-8"))
            for p in sorted((DATA / "seeds").glob("0*.txt"))}


# --- fingerprints -------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["the", "a", "news", "said", "Mexico", "2021", "talks", "security", "deal", "on"]),
                min_size=0, max_size=60))
def test_shingles_are_a_function_of_the_words(tokens):
    text = " ".join(tokens)
    assert np.array_equal(shingle_hashes(text), shingle_hashes("  " + text.upper() + " "))
    assert len(shingle_hashes(text)) <= max(1, len(tokens) - 4)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["the", "news", "said", "Mexico", "2021", "talks", "é", ""]),
                min_size=0, max_size=40), st.integers(min_value=0, max_value=4))
def test_word_hashes_are_each_words_xxh3_whatever_the_cache_holds(tokens, max_cache):
    hasher = WordHasher(seed=7, max_cache=max_cache)  # a cache that fills up, or holds nothing
    expected = [xxhash.xxh3_64_intdigest(tok.encode(), 7) for tok in tokens]
    for _ in range(2):  # a fresh hasher, then one that has seen these words
        assert hasher(tokens).tolist() == expected
    assert len(hasher._cache) <= max_cache


def test_ngram_hash_depends_on_word_order():
    h = np.array([11, 22, 33], dtype=np.uint64)
    assert ngram_hashes(h, 3)[0] != ngram_hashes(h[::-1].copy(), 3)[0]


def test_words_fold_accents_case_and_abbreviation_dots():
    assert words("Mérida U.S. López-Obrador's") == ["merida", "us", "lopez", "obrador's"]


def test_minhash_estimates_jaccard_like_classic_minhash():
    rng = np.random.default_rng(7)
    errors = []
    for _ in range(200):
        a = rng.integers(0, 2**63, rng.integers(20, 600), dtype=np.uint64)
        keep = rng.random(len(a)) < rng.random()
        b = np.concatenate([a[keep], rng.integers(0, 2**63, rng.integers(0, 300), dtype=np.uint64)])
        truth = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
        sa, sb = signatures([a, b], 128)
        errors.append(jaccard_estimate(sa, sb) - truth)
    errors = np.abs(errors)
    # Classic 128-permutation MinHash has standard error <= 0.044; ours must be as good.
    assert errors.mean() < 0.04 and errors.max() < 0.2


def test_lsh_bands_match_datasketch():
    from datasketch.lsh import _optimal_param

    for threshold in (0.5, 0.8, 0.9):
        assert optimal_bands(threshold, 128) == _optimal_param(threshold, 128, 0.5, 0.5)
    with pytest.raises(ValueError):
        optimal_bands(1.5, 128)


def test_immutables_are_names_numbers_and_quoted_words():
    found = immutables('Officials met on Friday in Mexico City. He said "absolutely unacceptable" '
                       "about the $3.3 billion plan.")
    assert {"friday", "mexico", "city", "absolutely", "unacceptable", "3.3"} <= set(found)
    assert "officials" not in found and "he" not in found


# --- seeds --------------------------------------------------------------------------------

def test_seed_reuters_copies_are_linked_as_translated_with_evidence():
    texts = seeds()
    relations = {(r.a, r.b): r for r in find_relations(texts)}
    rel = relations.get(("001", "004"))
    assert rel is not None and rel.kind == "translated"
    assert rel.evidence and rel.metrics["coverage_a"] > 0.5 and rel.metrics["order"] > 0.8


def test_seed_independent_reports_are_not_linked():
    for rel in find_relations(seeds()):
        assert "000" not in (rel.a, rel.b) and "003" not in (rel.a, rel.b), rel
        if "002" in (rel.a, rel.b):  # Al Jazeera reuses a couple of Reuters passages
            assert rel.kind == "partial" and rel.metrics["strong"] >= 2


def test_seed_signals():
    s = {k: document_signals(v) for k, v in seeds().items()}
    assert s["000"].spun >= 0.5 and s["003"].spun >= 0.5
    assert s["004"].spun < 0.5
    assert s["001"].translated >= 0.5 and s["002"].translated >= 0.5
    assert s["004"].translated < 0.5
    assert s["000"].evidence


# --- alignment and kinds on single pairs ----------------------------------------------------

@lru_cache(maxsize=1)
def _articles() -> list[dict]:
    return rewrites.load_articles()


def _article(n: int = 0) -> str:
    return _articles()[n]["text"]


def test_alignment_of_a_text_with_itself_is_complete_and_in_order():
    text = _article(3)
    al = align(text, text)
    assert al.metrics["coverage_a"] > 0.95 and al.metrics["coverage_b"] > 0.95
    assert al.metrics["order"] == 1.0 and al.metrics["exact"] == 1.0


def test_spinner_substitutions_are_reported():
    text = _article(5)
    spun = rewrites.spun(text, random.Random(3))
    al = align(text, spun)
    assert al.substitutions
    assert all(x != y for x, y in al.substitutions)


@pytest.mark.parametrize("kind", ["verbatim", "wrapped", "truncated", "spun", "translated"])
def test_a_rewrite_is_related_to_its_original(kind):
    texts = {}
    for n in range(3):
        original = _article(10 + n)
        texts[f"o{n}"] = original
        texts[f"c{n}"] = rewrites.REWRITERS[kind](original, random.Random(n))
    relations = {(r.a, r.b): r for r in find_relations(texts)}
    for n in range(3):
        rel = relations.get((f"o{n}", f"c{n}"))
        assert rel is not None and rel.kind in WHOLE_COPY_KINDS, (kind, n, rel)


# A short article of our own, a dense spin of it (every swap in place, adjacent words swapped
# together, a few words become two or three) and a round trip through another language (clauses
# moved, "of" phrases for compounds, words added and dropped). Neither comes from the demo corpus.
_BRIDGE = """The old Harbury bridge over the Tesk will stay closed to traffic until at least June 12, county engineers said on Thursday, after inspectors found deep cracks in two of its stone piers.
Drivers will have to use a 9-kilometre detour through the village of Molden, which adds about 15 minutes to the journey between Harbury and the coast.
The bridge, built in 1911, carries around 8,000 vehicles a day and is the only crossing for heavy lorries within 20 kilometres.
County roads chief Anna Feld said the damage was found during a routine check on Tuesday and that the county had no choice but to shut the bridge at once.
"We cannot take any risk with a structure this old. Safety comes first, even if the closure is painful for people who depend on it," Feld told reporters at the county offices.
Local shop owners said trade had already fallen since the closure, because fewer visitors were passing through the town centre.
The county will spend 1.8 million euros on temporary steel supports, and a lasting fix is not expected to be finished before the end of next year.
A public meeting on the detour and the repair plans will be held at the Harbury library on Monday evening."""

_BRIDGE_SPUN = """The outdated Harbury bridge over the Tesk will keep shut to site visitors till at the very least June 12, county engineers stated on Thursday, after inspectors discovered deep cracks in two of its stone piers.
Drivers must use a 9-kilometre detour by way of the village of Molden, which provides roughly 15 minutes to the journey between Harbury and the coast.
The bridge, constructed in 1911, carries round 8,000 autos a day and is the one crossing for heavy lorries inside 20 kilometres.
County roads chief Anna Feld mentioned the harm was discovered throughout a routine examine on Tuesday and that the county had no selection however to close the bridge without delay.
"We cannot take any risk with a structure this old. Safety comes first, even if the closure is painful for people who depend on it," Feld informed reporters on the county places of work.
Native store homeowners mentioned commerce had already fallen for the reason that closure, as a result of fewer guests had been passing by way of the city centre.
The county will spend 1.8 million euros on short-term metal helps, and a long-lasting repair shouldn't be anticipated to be completed earlier than the tip of subsequent 12 months.
A public assembly on the detour and the restore plans shall be held on the Harbury library on Monday night."""

_BRIDGE_TRANSLATED = """The old bridge of Harbury over the Tesk will remain closed to the traffic until at least June 12, said on Thursday the engineers of the county, after inspectors found deep fissures in two of its piers of stone.
The drivers will have to use a detour of 9 kilometres through the village of Molden, which adds about 15 minutes to the trip between Harbury and the coast.
Built in 1911, the bridge carries around 8,000 vehicles per day and it is the only crossing for the heavy trucks within 20 kilometres.
The damage was discovered during a routine control on Tuesday and the county had no other choice than to close the bridge immediately, said the chief of the roads of the county Anna Feld.
"We cannot take any risk with a structure this old. Safety comes first, even if the closure is painful for people who depend on it," Feld told reporters at the county offices.
Since the closure the commerce has already diminished, said the owners of local shops, because fewer visitors were passing through the centre of the town.
For temporary supports of steel the county will spend 1.8 million euros, and a definitive fix is not expected to be terminated before the end of the next year.
A public meeting on the detour and on the plans of reparation will take place at the library of Harbury on Monday in the evening."""


def test_a_dense_spin_is_spun_and_a_round_trip_translation_is_translated():
    spun = relate("o", _BRIDGE, "s", _BRIDGE_SPUN)
    translated = relate("o", _BRIDGE, "t", _BRIDGE_TRANSLATED)
    assert spun is not None and spun.kind == "spun", spun
    assert translated is not None and translated.kind == "translated", translated
    # Spinning swaps words in place; translation inserts and deletes words around its changes.
    assert spun.metrics["indel_share"] < 0.05 < translated.metrics["indel_share"]


def test_spinner_and_translator_copies_of_real_articles_are_named_right():
    named = defaultdict(list)
    for n in range(30, 60):
        original = _article(n)
        for kind in ("spun", "translated"):
            rel = relate("o", original, "c", rewrites.REWRITERS[kind](original, random.Random(n)))
            named[kind].append(rel is not None and rel.kind == kind)
    # Measured: spun 26/30, translated 27/30 (before indel_share: 25/30 and 23/30).
    assert np.mean(named["spun"]) >= 0.8 and np.mean(named["translated"]) >= 0.8, named


_QUOTE = ("“We have asked for this study for three years and nobody listened to us. The numbers "
          "show what every parent on this street already knew. We want the council to act before "
          "the winter,” Marta Oyelaran said.")
_NARRATION = [("The study was paid for by the regional health board and published on its website "
              "late on Thursday evening."),
              ("Its authors measured traffic at eleven junctions over six weeks and counted more "
              "than 40,000 lorries in that time.")]


def _with_paragraphs(text: str, extra: list[str], at: int) -> str:
    paras = rewrites.paragraphs(text)
    return "\n".join(paras[:at] + extra + paras[at:])


def test_a_shared_quotation_alone_is_not_reuse():
    """Two reporters quoting the same speaker share her words without copying each other."""
    a = _with_paragraphs(_article(40), [_QUOTE], 2)
    b = _with_paragraphs(_article(41), [_QUOTE], 4)
    assert relate("a", a, "b", b) is None and relate("b", b, "a", a) is None
    # Narration copied word for word is reuse, with or without the quotation.
    a2 = _with_paragraphs(a, _NARRATION, 5)
    b2 = _with_paragraphs(b, _NARRATION, 1)
    for x, y in ((a2, b2), (b2, a2)):
        rel = relate("x", x, "y", y)
        assert rel is not None and rel.kind == "partial" and rel.metrics["strong"] == 2, rel


def test_every_sentence_of_a_long_quotation_counts_as_quoted():
    quoted = {s.text[:12]: s.quoted for s in sentences(_QUOTE + "\nThe council met on Monday.")}
    assert quoted["“We have ask"] == 1.0 and quoted["The numbers "] == 1.0
    assert 0.5 < quoted["We want the "] < 1.0  # "Marta Oyelaran said." is narration
    assert quoted["The council "] == 0.0


def test_identical_texts_get_the_same_relations():
    original = _article(42)
    reuse = _with_paragraphs(_article(43), rewrites.paragraphs(original)[1:4], 2)
    texts = {"first": original, "reuse": reuse, "again": original}
    for options in (MatchOptions(), MatchOptions(max_candidates_per_doc=1)):
        kinds = {(r.a, r.b): r.kind for r in find_relations(texts, options)}
        assert kinds[("first", "again")] == "verbatim"
        assert kinds.get(("first", "reuse")) == kinds.get(("reuse", "again")) == "partial", kinds


def test_many_identical_copies_are_linked_as_a_star():
    text = _article(44)
    texts = {f"copy{n}": text for n in range(5)}
    pairs = {(r.a, r.b) for r in find_relations(texts, MatchOptions(max_identical_clique=3))}
    assert pairs == {("copy0", f"copy{n}") for n in range(1, 5)}
    assert len(find_relations(texts)) == 10  # a small group: every pair, as before


def test_relations_keep_input_order():
    original = _article(20)
    copy = rewrites.wrapped(original, random.Random(1))
    [rel] = find_relations({"later": copy, "earlier": original})
    assert (rel.a, rel.b) == ("later", "earlier")


def test_options_are_validated():
    with pytest.raises(ValueError):
        MatchOptions(lsh_threshold=2.0)
    assert MatchOptions().get_params()["num_perm"] == 128


# --- the rewrite set of real articles: pinned quality floors -------------------------------

@lru_cache(maxsize=1)
def _rewrite_run():
    articles = rewrites.load_articles()
    rng = random.Random(0)
    pool = articles[:]
    rng.shuffle(pool)
    hosts, originals = pool[:50], pool[50:]
    docs, truth = rewrites.rewrite_set(originals, seed=1, copies=1, hosts=hosts)
    texts = dict(docs)
    return texts, truth, find_relations(texts)


def _families(ids, relations):
    """doc -> its family's label, from the whole-copy relations."""
    label = group_of(list(ids), [(r.a, r.b) for r in relations if r.kind in WHOLE_COPY_KINDS])
    return label.__getitem__


def test_copy_families_on_rewrites_of_real_articles():
    texts, truth, relations = _rewrite_run()
    find = _families(texts, relations)
    true_family = {rid: orig for orig, rid, kind in truth if kind != "partial"}
    pred, gold = defaultdict(set), defaultdict(set)
    for d in texts:
        pred[find(d)].add(d)
        gold[true_family.get(d, d)].add(d)
    pairs = lambda groups: {frozenset(p) for g in groups.values() for p in itertools.combinations(g, 2)}
    predicted, expected = pairs(pred), pairs(gold)
    precision = len(predicted & expected) / len(predicted)
    recall = len(predicted & expected) / len(expected)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.97, (precision, recall)


def test_every_kind_is_found_with_pinned_recall():
    texts, truth, relations = _rewrite_run()
    by_pair = {(r.a, r.b): r for r in relations}
    find = _families(texts, relations)
    found, right_kind = defaultdict(list), defaultdict(list)
    for orig, rid, kind in truth:
        rel = by_pair.get((orig, rid))
        found[kind].append(rel is not None and (rel.kind == "partial") == (kind == "partial")
                           and (kind == "partial" or find(orig) == find(rid)))
        right_kind[kind].append(rel is not None and rel.kind == kind)
    print("\nkind        found  named right  (n)")
    for kind in [*rewrites.WHOLE_KINDS, "partial"]:
        print(f"{kind:10s}  {np.mean(found[kind]):.3f}  {np.mean(right_kind[kind]):.3f}"
              f"        ({len(found[kind])})")
    for kind in [*rewrites.WHOLE_KINDS, "partial"]:
        assert np.mean(found[kind]) >= FOUND_FLOORS.get(kind, 0.9), (kind, np.mean(found[kind]))
        # Kinds overlap at their edges (a light spin looks edited); most must be named right.
        assert np.mean(right_kind[kind]) >= RIGHT_KIND_FLOORS[kind], (kind, np.mean(right_kind[kind]))


# Measured (seed 1 of the rewrite set): verbatim 1.00, wrapped 0.94, truncated 0.97, edited 0.94,
# spun 0.84 (0.77 before indel_share), translated 0.94 (0.68 before), partial 0.92.
# A partial rewrite whose inserted passage lies inside a quotation cannot be told from two
# reports quoting the same speaker, which is not reuse: those are missed by design (0.88 found
# since `he said."` closes a quotation; it was 0.92 when such sentences read as narration).
FOUND_FLOORS = {"partial": 0.85}
RIGHT_KIND_FLOORS = {"verbatim": 0.95, "wrapped": 0.85, "truncated": 0.9, "edited": 0.85,
                     "spun": 0.8, "translated": 0.85, "partial": 0.85}


def test_candidates_stay_near_linear():
    texts, _, _ = _rewrite_run()
    pairs = candidate_pairs(list(texts.values()), MatchOptions())
    assert len(pairs) <= 4 * len(texts)


def test_different_articles_of_one_story_are_not_copies():
    """Multi-News articles of one story share names and numbers but are different articles."""
    articles = rewrites.load_articles()  # Multi-News' own near-verbatim copies left out
    relations = find_relations({a["id"]: a["text"] for a in articles})
    story = {a["id"]: a["story"] for a in articles}
    same_story_pairs = sum(1 for a, b in itertools.combinations(articles, 2)
                           if a["story"] == b["story"])
    whole = [r for r in relations if r.kind in WHOLE_COPY_KINDS]
    assert all(story[r.a] == story[r.b] for r in relations)  # never across stories
    # The few links left are rewrites of one wire story (measured: 2 of 230 pairs).
    assert len(whole) / same_story_pairs <= 0.02


def test_signals_are_low_on_originals_and_high_on_spun_rewrites():
    articles = rewrites.load_articles()[:120]
    rng = random.Random(5)
    original = [document_signals(a["text"]) for a in articles]
    spun = [document_signals(rewrites.spun(a["text"], rng)) for a in articles]
    assert np.mean([s.spun for s in original]) < 0.1
    assert np.mean([s.translated for s in original]) < 0.1
    # Measured: 66% of spun rewrites reach 0.5 (the lexicon is not the generator's thesaurus).
    assert np.mean([s.spun >= 0.5 for s in spun]) >= 0.55
    assert np.mean([s.spun for s in spun]) > 10 * np.mean([s.spun for s in original])


def test_translation_marks_are_rare_in_originals_and_found_in_the_demo_round_trip():
    rows = [json.loads(line) for line in (DATA / "multinews" / "dev.jsonl").open()]
    translated = np.array([document_signals(r["text"]).translated for r in rows])
    # Measured on all 291 originals: mean 0.032, 95th percentile 0.27, 1.4% at 0.5 or more
    # (before the grammar marks and the lighter spacing mark: 0.045, 0.42, 4.5%).
    assert translated.mean() < 0.05 and np.percentile(translated, 95) < 0.35
    assert np.mean(translated >= 0.5) <= 0.03
    corpus = REPO / "examples" / "corpus"
    round_trip = document_signals((corpus / "05_worldflash_translated.txt").read_text())
    assert round_trip.translated >= 0.5 and round_trip.spun < 0.5, round_trip.evidence
    assert document_signals((corpus / "01_northwire_levee.txt").read_text()).translated < 0.2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="ab cD1’“.\né", max_size=60), min_size=1, max_size=6))
def test_batch_shingles_do_not_depend_on_the_batch(texts):
    from storytrace.fingerprint import batch_shingles

    together, owner = batch_shingles(texts, 3)
    for n, text in enumerate(texts):
        alone, _ = batch_shingles([text], 3)
        assert np.array_equal(np.sort(together[owner == n]), np.sort(alone))


def test_a_straight_quote_after_the_last_word_closes_a_quotation():
    quoted = {s.text[:12]: s.quoted for s in sentences(
        'We lost everything. We will rebuild, he said."\n'
        '"We lost," he said. We will rebuild. It takes years." The mayor left.')}
    assert quoted["We lost ever"] == 1.0 and quoted["We will rebu"] == 1.0
    assert quoted["It takes yea"] == 1.0 and quoted["The mayor le"] == 0.0
    assert 0.3 < quoted['"We lost," h'] < 0.7  # "he said" is narration


def test_required_literals_read_branches_and_a_shared_prefix():
    # The parser moves what alternatives share out of them ("\\bofficers|\\bofficials" is
    # read as "\\b(?:officers|officials)"); each alternative still needs its own word.
    assert required_literals(r"\bofficers stated|\bofficials mentioned") == (
        ("officers stated",), ("officials mentioned",))
    assert required_literals(r"\w \.(?=\s)|\w ,(?=\s)") == ((" .",), (" ,",))
    assert required_literals(r"\b(?:US|EU) officers\b") == (("US", " officers"),
                                                             ("EU", " officers"))
    assert required_literals(r"(?:he|she)+ said") == (("he", " said"), ("she", " said"))
    assert required_literals(r"\bsaid|\w+") is None  # "\w+" needs no fixed string
    assert required_literals(r"(?i)said") is None  # any case: "SAID" must match too


@pytest.mark.parametrize("name,pattern", [(n, p) for n, p, _ in SPIN_MARKS + TRANSLATION_MARKS],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_a_mark_is_never_skipped_on_a_text_it_matches(name, pattern):
    # Signals search a text for a mark only when it holds the strings the mark's pattern
    # needs: on any text the pattern matches (hypothesis writes matches of the pattern
    # itself, inside other text), that check must let the search run.
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.from_regex(pattern), st.text(max_size=12), st.text(max_size=12))
    def check(match, before, after):
        text = before + match + after
        if pattern.search(text):
            assert may_match(text, pattern)

    check()


def test_one_weak_habit_repeated_is_not_called_translated():
    # An outlet that sets a space before every full stop (a house style, not a machine): the
    # mark is listed as evidence but alone never reaches the 0.5 that reads as "translated".
    sentences = [f"The governor met {n} residents in Lagos about the new road project ."
                 for n in range(40)]
    habit = document_signals(" ".join(sentences))
    assert habit.translated < 0.5
    assert any("space before a full stop" in e for e in habit.evidence)
    # One stronger mark beside the habit (doubled negation) and the text reads translated.
    mixed = document_signals(" ".join(sentences) + " They do not cannot stop the works .")
    assert mixed.translated >= 0.5


def test_focus_gives_the_relations_of_the_focused_texts_as_a_full_run_does():
    # An index adding or querying one text beside stored ones asks only for that text's
    # relations: they must be the ones the whole pile would give it (kinds and scores).
    rows = [json.loads(line) for line in (DATA / "meter" / "docs.jsonl").open()]
    lines = sorted({r["catchline"] for r in rows})[:4]
    pile = [r for r in rows if r["catchline"] in lines]
    texts = {r["id"]: r["text"] for r in pile}
    dates = {r["id"]: r.get("date") for r in pile}
    full = find_relations(texts, dates=dates)
    assert full
    for doc_id in list(texts)[::3]:
        expected = [(r.a, r.b, r.kind, r.score) for r in full if doc_id in (r.a, r.b)]
        focused = find_relations(texts, dates=dates, focus={doc_id})
        assert [(r.a, r.b, r.kind, r.score) for r in focused] == expected, doc_id


def _spread(values) -> np.ndarray:
    """Small integers as hashes spread over all 64 bits (so they fall in different
    `hash_parts`), still distinct."""
    return np.array([(v * 0x9E3779B97F4A7C15 + 1) % 2**64 for v in values], dtype=np.uint64)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sets(st.integers(0, 25), max_size=10), min_size=1, max_size=25),
       st.integers(1, 3), st.integers(2, 6), st.integers(1, 4), st.booleans(),
       st.sampled_from([1, 3, 16, 1 << 18]))
def test_shared_pairs_with_arrays_are_the_loops_pairs_counts_and_order(
        docs, min_shared, max_df, max_per_doc, mapping, part_entries):
    """The numpy `shared_pairs` keeps the same pairs, with the same counts, in the same order
    as the posting-list loop it replaces: the per-document cap depends on that order. It
    groups the hashes one range of values at a time (`part_entries`, up to 64 parts here)."""
    import importlib

    module = importlib.import_module("storytrace.fingerprint.immutables")
    rng = np.random.default_rng(len(docs))
    arrays = [rng.permutation(_spread(sorted(d))) for d in docs]
    items = [(int(k) * 7 + 3, a) for k, a in zip(rng.permutation(len(docs)), arrays,
                                                 strict=True)] if mapping \
        else list(enumerate(arrays))
    loop = module._shared_pairs_loop(items, min_shared, max_df, max_per_doc)
    vectorised = module._shared_pairs_arrays(items, min_shared, max_df, max_per_doc,
                                             part_entries)
    assert list(vectorised.items()) == list(loop.items())
    shingles = dict(items) if mapping else arrays
    assert list(module.shared_pairs(shingles, min_shared, max_df, max_per_doc).items()) == \
        list(loop.items())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sets(st.integers(0, 30), max_size=12), min_size=2, max_size=25),
       st.integers(1, 3), st.integers(2, 6), st.integers(1, 4),
       st.sampled_from([1, 3, 16]))
def test_contained_pairs_in_hash_ranges_are_the_pairs_counted_one_by_one(
        docs, min_shared, max_df, max_per_doc, part_entries):
    """Containment counted one range of hash values at a time gives the pairs, values and
    order of one count over all hashes; and those are the shares counted pair by pair."""
    from storytrace.fingerprint.containment import contained_pairs

    keys = [np.random.default_rng(n).permutation(_spread(sorted(d))) for n, d in enumerate(docs)]
    whole = contained_pairs(keys, 0.3, min_shared, max_df, max_per_doc, part_entries=1 << 40)
    parts = contained_pairs(keys, 0.3, min_shared, max_df, max_per_doc, part_entries)
    assert list(parts.items()) == list(whole.items())
    df = Counter(h for d in docs for h in d)
    size = [sum(df[h] <= max_df for h in d) for d in docs]
    expected = {}
    for a, b in itertools.combinations(range(len(docs)), 2):
        shared = sum(1 < df[h] <= max_df for h in docs[a] & docs[b])
        share = shared / max(min(size[a], size[b]), 1)
        if shared >= min_shared and share >= 0.3:
            expected[(a, b)] = round(share, 4)
    uncapped = contained_pairs(keys, 0.3, min_shared, max_df, len(docs), part_entries)
    assert uncapped == expected
    assert set(parts) <= set(expected)


def test_stop_words_are_scikit_learns_without_importing_it():
    """The derivation model was trained with scikit-learn's English stop words; the match and
    trace stages read that list, and a default Config is made, without importing scikit-learn
    (about 1 s of every one-off `storytrace index query`)."""
    import subprocess
    import sys

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as sklearn_words

    from storytrace.stopwords import ENGLISH_STOP_WORDS

    assert ENGLISH_STOP_WORDS == sklearn_words
    probe = ("import sys, storytrace.index, storytrace.match.relations, storytrace.trace.wording;"
             "storytrace.config.Config(); print('sklearn' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


def test_story_options_refuse_unknown_or_invalid_parameters():
    """Only the defaults skip the clusterer's check: a parameter given is still validated."""
    from storytrace.config import StoryOptions
    from storytrace.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown story parameter"):
        StoryOptions("batch", (("bogus", 1),))
    with pytest.raises(ConfigError, match="min_similarity"):
        StoryOptions("batch", (("min_similarity", -1.0),))
    assert StoryOptions("batch", (("min_similarity", 0.2),)).clusterer().min_similarity == 0.2
