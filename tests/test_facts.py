"""The facts stage: what sources say (numbers, dates, quotes) and where they disagree."""

from decimal import Decimal

import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from storytrace.facts import extract_facts, story_facts
from storytrace.facts.entities import entity_key
from storytrace.facts.values import predicate_name
from storytrace.model import Document, DocumentResult, Signals


def doc(doc_id: str, text: str, date: str | None = None) -> DocumentResult:
    return DocumentResult(
        id=doc_id, source=doc_id, title=None, clean_text=text, removed=[], signals=Signals(),
        family="", story="", attribution=[], date=date,
    )  # fmt: skip


def facts_of(text: str, kind: str, date: str | None = None):
    return [f for f in extract_facts(text, date) if f.kind == kind]


def only(text: str, kind: str, date: str | None = None):
    found = facts_of(text, kind, date)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ the seeds


@pytest.fixture(scope="module")
def seed_story():
    """The five seed copies as one story: cleaned by the clean stage when it is ready, else raw
    (the facts must come out either way)."""
    paths = sorted((DATA / "seeds").glob("*.txt"))
    raw = [p.read_text(encoding="utf-8") for p in paths]
    try:
        from storytrace.clean import clean_corpus

        cleaned = clean_corpus(
            [
                Document(id=f"{n:03d}", raw=text, source=str(p))
                for n, (p, text) in enumerate(zip(paths, raw))
            ]
        )
        texts = [c.text for c in cleaned]
    except NotImplementedError:
        texts = raw
    docs = [doc(f"{n:03d}", text) for n, text in enumerate(texts)]
    return story_facts(docs)


def conflict_values(conflicts, kind: str, about: str) -> dict[str, list[str]]:
    matching = [c for c in conflicts if c.kind == kind and entity_key(c.about) == entity_key(about)]
    assert len(matching) == 1, [(c.kind, c.about) for c in conflicts]
    return {v.value: v.documents for v in matching[0].values}


def test_seeds_disagree_on_the_size_of_the_merida_initiative(seed_story):
    _, conflicts = seed_story
    assert conflict_values(conflicts, "money", "Mérida Initiative") == {
        "USD 3300000000": ["001", "004"],
        "USD 3000000000": ["002", "003"],
    }


def test_seeds_disagree_on_when_the_merida_initiative_started(seed_story):
    _, conflicts = seed_story
    assert conflict_values(conflicts, "year", "Merida Initiative") == {
        "2007": ["001", "004"],
        "2008": ["002", "003"],
    }


def test_seeds_disagree_on_the_age_of_the_merida_initiative(seed_story):
    _, conflicts = seed_story
    values = conflict_values(conflicts, "duration", "Merida Initiative")
    assert set(values) == {"P13Y", "P15Y"}
    assert {"000", "003"} <= set(values["P13Y"])  # "after 13 years of Mérida"; Price's "13 years"
    assert values["P15Y"] == ["003"]  # Price's "some 15 years", in the same report


def test_seed_conflicts_are_few(seed_story):
    """Precision: the three real disagreements and not a pile of noise around them."""
    _, conflicts = seed_story
    assert 3 <= len(conflicts) <= 5


def test_seed_quotes_are_attributed_to_their_speakers(seed_story):
    facts, _ = seed_story
    quotes = [f for f in facts if f.kind == "quote"]

    def speaker_of(words: str) -> str | None:
        return next(f.speaker for f in quotes if words in f.value)

    assert "Blinken" in speaker_of("transformational partnership")
    assert "Blinken" in speaker_of("economic dialogue")
    assert speaker_of("13 years now") == "Ned Price"
    assert speaker_of("some 15 years that merida") == "Ned Price"
    assert "Felbab-Brown" in speaker_of("minimal area of overlap")


def test_a_quote_in_two_seed_documents_is_one_fact_listing_both(seed_story):
    facts, _ = seed_story
    overlap = [
        f for f in facts if f.kind == "quote" and f.value == "there is a minimal area of overlap"
    ]
    assert len(overlap) == 1
    assert overlap[0].documents == ["001", "004"]
    assert overlap[0].speaker == "Vanda Felbab-Brown"


# ------------------------------------------------------------------ money


@pytest.mark.parametrize(
    "text, value",
    [
        ("The fund channeled $3.3 billion to the region.", "USD 3300000000"),
        ("The fund channeled $ 3 billion to the region.", "USD 3000000000"),
        ("It cost 3.3 billion dollars in total.", "USD 3300000000"),
        ("The club paid €20m for the striker.", "EUR 20000000"),
        ("A fine of USD 5,000 was imposed.", "USD 5000"),
        ("Shares raised £1.25bn on Monday.", "GBP 1250000000"),
        ("Tickets cost $399.", "USD 399"),
    ],
)
def test_money_is_normalised_to_currency_and_amount(text, value):
    assert only(text, "money").value == value


@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(999999), places=2),
    multiplier=st.sampled_from(["", " million", " billion", "m", "bn", " thousand"]),
    currency=st.sampled_from([("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("USD ", "USD")]),
)
def test_money_round_trips_through_text(amount, multiplier, currency):
    symbol, code = currency
    factor = {
        "": 1,
        " million": 10**6,
        " billion": 10**9,
        "m": 10**6,
        "bn": 10**9,
        " thousand": 10**3,
    }
    expected = amount * factor[multiplier]
    rendered = f"{amount:,}" if amount >= 1000 else str(amount)
    found = only(f"The deal was worth {symbol}{rendered}{multiplier} in all.", "money")
    code_out, number = found.value.split()
    assert code_out == code
    assert Decimal(number) == expected


# ------------------------------------------------------------------ other numbers


def test_quantities_keep_their_unit():
    assert only("A border that is nearly 2,000 miles long.", "quantity").value == "2000 miles"
    killed = only("More than 300,000 people have been murdered since 2006.", "quantity")
    assert killed.value == "300000 people" and killed.role == "people killed"
    missing = only("Nearly 100,000 individuals are missing.", "quantity")
    assert (missing.value, missing.role) == ("100000 people", "people missing")


def test_percentages():
    assert [f.value for f in facts_of("Prices rose 4.5% while wages grew 3 per cent and rents 10 percent.", "percent")] == [
        "4.5%", "3%", "10%",
    ]  # fmt: skip


def test_dates_are_iso_and_weekdays_are_not_dates():
    assert (
        only("MEXICO CITY, October 8, 2021 (Reuters) - Talks began.", "date").value == "2021-10-08"
    )
    assert (
        only("Officials met on Friday, Oct. 8, in the capital.", "date", "2021-10-07").value
        == "2021-10-08"
    )
    assert facts_of("They met on Friday and again on Monday.", "date") == []
    plan = only("Washington will develop an action plan by December 1.", "date", "2021-10-08")
    assert plan.value == "2021-12-01" and plan.role == "deadline"
    assert (
        only("A framework agreed by January 30 next year.", "date", "2021-10-08").value
        == "2022-01-30"
    )
    assert only("It hoped to have a plan by the end of January 2022.", "date").value == "2022-01"
    assert only("The report came out on 8 March 2020.", "date").value == "2020-03-08"
    assert facts_of("The talks may resume and markets march on.", "date") == []


def test_years_and_start_years():
    launched = only("Launched in 2007, the Merida Initiative provided equipment.", "year")
    assert (launched.value, launched.role) == ("2007", "start")
    assert only("The United States has given $3 billion since 2008.", "year").role == "start"
    assert (
        only("The $3 billion Merida Initiative, a 2008 pact meant to fight crime.", "year").role
        == "start"
    )
    assert only("In a seminal moment in 2019, the government released him.", "year").role == "year"
    assert facts_of("Some 2,000 people marched.", "year") == []


def test_durations_and_ages():
    assert only("It has been in place for some 15 years.", "duration").value == "P15Y"
    old = only("They will reshuffle the 13-year-old Merida Initiative.", "duration")
    assert (old.value, old.role) == ("P13Y", "age")
    assert (
        only("After 13 years of Merida, it was time for something new.", "duration").role == "age"
    )
    term = only("They expect a three-year framework to be agreed.", "duration")
    assert (term.value, term.role) == ("P3Y", "term")
    assert only("He left two years ago.", "duration").role == "relative"
    assert only("The strike lasted six months.", "duration").value == "P6M"


# ------------------------------------------------------------------ what a number is about


@pytest.mark.parametrize(
    "text, kind, about",
    [
        (("The previous agreement, the Merida Initiative, under which the United States channeled "
         "about $3.3 billion to help Mexico fight crime."), "money", "Merida Initiative"),
        ("The deal will replace the $3 billion Merida Initiative, a 2008 pact.", "money", "Merida Initiative"),
        ("The deal will replace the $3 billion Merida Initiative, a 2008 pact.", "year", "Merida Initiative"),
        ("Launched in 2007, the Merida Initiative provided equipment.", "year", "Merida Initiative"),
        ("Founded in 1998, Google now employs thousands.", "year", "Google"),
        ("Regulators said Wells Fargo would pay $5 billion.", "money", "Wells Fargo"),
        ("The plan to expand the Keystone Pipeline, which cost $8 billion, stalled.", "money", "Keystone Pipeline"),
    ],
)  # fmt: skip
def test_a_number_is_about_the_name_it_is_tied_to(text, kind, about):
    assert only(text, kind).about == about


def test_the_program_refers_back_to_the_named_programme():
    text = (
        "Both countries want to reshuffle the Merida Initiative, which trained police.\n"
        "The United States has given Mexico $3 billion for the program since 2008."
    )
    assert only(text, "money").about == "Merida Initiative"
    assert only(text, "year").about == "Merida Initiative"


def test_entity_keys_ignore_accents_case_and_articles():
    assert (
        entity_key("Mérida Initiative")
        == entity_key("the Merida initiative")
        == "merida initiative"
    )
    assert entity_key("Mexico’s") == "mexico"


# ------------------------------------------------------------------ quotes


@pytest.mark.parametrize(
    "text, speaker",
    [
        ("“It is time for a new approach,” Blinken said in Mexico City.", "Blinken"),
        ("“It is time for a new approach,” said Price, a spokesman.", "Price"),
        ("“It is time for a new approach,” Blinken mentioned on Friday.", "Blinken"),
        ("“It is time for a new approach,” the official stated.", "the official"),
        ("“It is time for a new approach,” the official informed reporters.", "the official"),
        ("“It is time for a new approach,” Ebrard told reporters.", "Ebrard"),
        ('"It is time for a new approach," Blinken added.', "Blinken"),
        (
            "“It is time for a new approach,” Marcelo Ebrard, Mexico’s foreign minister, said.",
            "Marcelo Ebrard",
        ),
        (
            "The minister Marcelo Ebrard said on Friday that it was “time for a new approach.”",
            "Marcelo Ebrard",
        ),
    ],
)
def test_quotes_are_attributed_to_the_reporting_clause(text, speaker):
    assert only(text, "quote").speaker == speaker


def test_a_surname_resolves_to_the_full_name_used_earlier():
    text = (
        "State Department spokesman Ned Price spoke on Thursday.\n"
        "“We want to see those gains preserved,” Price said."
    )
    assert only(text, "quote").speaker == "Ned Price"


def test_pronouns_and_continued_quotes_keep_the_speaker():
    text = (
        "“The fact that we are talking is important,” said Pamela Starr, a professor. "
        "“Talking is the first step.”\n"
        "“It will be one of the central elements,” she added.\n"
        "“There is no question the administration is being quiet,” the analyst said. “They have no space.\n"
        "“Not on migration.”"
    )
    quotes = facts_of(text, "quote")
    assert [q.speaker for q in quotes] == ["Pamela Starr"] * 3 + ["the analyst"] * 3


def test_scare_quotes_have_no_speaker():
    assert only("The president calls it a “hugs not bullets” strategy.", "quote").speaker is None


# ------------------------------------------------------------------ merging and conflicts


def test_equal_facts_merge_across_documents():
    docs = [
        doc("a", "The Merida Initiative, under which the US channeled about $3.3 billion, ends."),
        doc("b", "The $ 3.3 billion Mérida Initiative will end."),
    ]
    facts, conflicts = story_facts(docs)
    money = [f for f in facts if f.kind == "money"]
    assert len(money) == 1
    assert money[0].documents == ["a", "b"] and entity_key(money[0].about) == "merida initiative"
    assert conflicts == []


def test_a_start_year_is_not_compared_with_an_unrelated_year():
    docs = [
        doc("a", "Launched in 2007, the Merida Initiative trained police."),
        doc("b", "In 2019, the Merida Initiative was criticised by the president."),
    ]
    _, conflicts = story_facts(docs)
    assert conflicts == []


def test_amounts_of_very_different_size_are_not_a_conflict():
    docs = [
        doc("a", "The $3 billion Merida Initiative trained police."),
        doc("b", "The $100 million Merida Initiative grant trained judges."),
    ]
    _, conflicts = story_facts(docs)
    assert conflicts == []


def test_different_death_tolls_for_one_event_conflict():
    docs = [
        doc("a", "The Gorkha Earthquake left 8,000 people dead, officials said."),
        doc("b", "The Gorkha Earthquake left about 9,000 people dead."),
    ]
    _, conflicts = story_facts(docs)
    assert len(conflicts) == 1
    assert {v.value: v.documents for v in conflicts[0].values} == {
        "8000 people": ["a"],
        "9000 people": ["b"],
    }


def test_a_shared_quote_lists_every_document_and_the_speaker():
    docs = [
        doc("a", "“There is a minimal area of overlap,” said Vanda Felbab-Brown, an analyst."),
        doc("b", '"There is a minimal area of overlap", Felbab-Brown said.'),
    ]
    facts, _ = story_facts(docs)
    quote = only_fact(facts, "quote")
    assert quote.documents == ["a", "b"] and quote.speaker == "Vanda Felbab-Brown"


def only_fact(facts, kind):
    found = [f for f in facts if f.kind == kind]
    assert len(found) == 1, found
    return found[0]


def test_a_rounded_figure_does_not_conflict_with_the_exact_one():
    docs = [
        doc("a", "The Hoover Foundation received about $973,000 last year."),
        doc("b", "The Hoover Foundation received $972,814 last year."),
    ]
    assert story_facts(docs)[1] == []


def test_a_hedged_count_far_from_another_still_conflicts():
    docs = [
        doc("a", "The Athens Riots left about 100 people injured."),
        doc("b", "The Athens Riots left 70 people injured, police said."),
    ]
    _, conflicts = story_facts(docs)
    assert [sorted(v.value for v in c.values) for c in conflicts] == [["100 people", "70 people"]]


def test_two_amounts_several_sources_state_together_are_not_a_conflict():
    docs = [
        doc("a", "AMD will buy SeaMicro for $334 million, including about $281 million in cash."),
        doc("b", "AMD will buy SeaMicro for $334 million, including $281 million in cash."),
        doc("c", "SeaMicro fetched $281 million."),
    ]
    assert story_facts(docs)[1] == []


def test_a_clause_fragment_is_not_a_speaker():
    text = "Staff keep their pay, “keep paying them normally,” eliminating the hassle, the company says."
    assert only(text, "quote").speaker in (None, "the company")


def test_titles_are_not_part_of_a_speakers_name():
    text = "Bexar County Sheriff Javier Salazar spoke.\n“It is heartbreaking,” Salazar said."
    assert only(text, "quote").speaker == "Javier Salazar"


# ------------------------------------------------------------------ counts of what an event did


@pytest.mark.parametrize(
    "word, outcome",
    [
        ("flooding", "flooded"), ("floods", "flooded"), ("flooded", "flooded"),
        ("inundating", "flooded"), ("inundated", "flooded"), ("killing", "killed"),
        ("died", "killed"), ("wounding", "injured"), ("carried", "carried"),
        ("including", None), ("reported", None), ("estimated", None),
    ],
)  # fmt: skip
def test_verb_forms_and_synonyms_name_one_outcome(word, outcome):
    assert predicate_name(word) == outcome


def test_a_count_knows_what_happened_to_what_was_counted():
    flooded = only(
        "Heavy rain burst the Tamsin dam, flooding about 120 homes downstream.", "quantity"
    )
    assert (flooded.value, flooded.role) == ("120 homes", "homes flooded")
    inundated = only("The dam failure inundated 150 houses overnight.", "quantity")
    assert (inundated.value, inundated.role) == ("150 homes", "homes flooded")
    after = only("By then, 40 dwellings had been flooded.", "quantity")
    assert after.role == "homes flooded"
    assert only("Among them were 14 residents of a care home.", "quantity").role == "people"


def test_homes_flooded_conflict_across_synonyms_and_verb_forms():
    docs = [
        doc("a", "Heavy rain burst the Tamsin dam on Friday, flooding about 120 homes downstream."),
        doc("b", "About 120 houses were inundated when the Tamsin dam burst, police said."),
        doc("c", "The dam failure flooded 150 homes, the council said."),
    ]
    _, conflicts = story_facts(docs)
    assert len(conflicts) == 1, conflicts
    assert conflicts[0].kind == "quantity" and conflicts[0].about == "homes flooded"
    assert {v.value: v.documents for v in conflicts[0].values} == {
        "120 homes": ["a", "b"],
        "150 homes": ["c"],
    }


def test_counts_of_different_things_or_people_do_not_conflict():
    docs = [
        doc("a", "The dam burst, flooding 120 homes and forcing 300 residents to leave."),
        doc("b", "The flood forced 250 families out. Jones scored 20 points in the charity match."),
        doc("c", "Smith scored 14 points in the charity match."),
    ]
    assert story_facts(docs)[1] == []


def test_a_toll_in_one_place_is_not_a_different_total():
    docs = [
        doc("a", "The 2004 tsunami killed 168,000 people in Indonesia's Aceh province."),
        doc("b", "The 2004 tsunami killed more than 230,000 people around the Indian Ocean."),
        doc("c", "The 2004 tsunami killed 230,000 people in a dozen countries."),
    ]
    assert story_facts(docs)[1] == []


def test_a_toll_of_an_earlier_year_is_not_compared_with_the_events():
    docs = [
        doc("a", "The quake on Tuesday killed 24 people, the agency said.", "2013-07-03"),
        doc("b", "In September 2009 a quake near Padang killed 30 people.", "2013-07-03"),
        doc("c", "Officials said the quake killed 24 people.", "2013-07-04"),
    ]
    assert story_facts(docs)[1] == []


def test_a_list_of_places_is_the_whole_toll_not_a_part():
    found = only("It left 220,000 people dead in Indonesia, Sri Lanka and India.", "quantity")
    assert found.role == "people killed"
    assert only("It killed 168,000 people in Indonesia's Aceh.", "quantity").role == (
        "people killed in Indonesia"
    )


def test_synonymous_counted_nouns_are_one_fact():
    docs = [
        doc("a", "Crews carried 86 people from flooded streets by boat."),
        doc("b", "Crews carried 86 persons out of inundated streets by boat."),
    ]
    facts, _ = story_facts(docs)
    assert only_fact(facts, "quantity").documents == ["a", "b"]


def test_a_bare_count_joins_the_one_slot_for_its_noun():
    """A spinner's "sending water by 410 houses" says nothing of flooding; the story's only
    count of flooded homes is what it is."""
    docs = [
        doc("a", "The Tamsin dam burst on Friday, flooding about 120 homes downstream."),
        doc("b", "The dam gave way on Friday, sending brown water by 150 houses downstream."),
    ]
    _, conflicts = story_facts(docs)
    assert [{v.value: v.documents for v in c.values} for c in conflicts] == [
        {"120 homes": ["a"], "150 homes": ["b"]}
    ]


def test_a_bare_count_of_people_is_not_taken_for_a_toll():
    docs = [
        doc("a", "The quake killed 250 people in the region."),
        doc("b", "About 300 people were given treatment at the hospital."),
    ]
    assert story_facts(docs)[1] == []


def test_amounts_in_different_currencies_do_not_conflict():
    docs = [
        doc("a", "The Norland Fund will spend about 200 million euros on the dam."),
        doc("b", "The Norland Fund will spend $265 million on the dam."),
    ]
    assert story_facts(docs)[1] == []


def test_a_value_hedged_in_one_report_and_exact_in_others_still_counts():
    docs = [
        doc("a", "The strike killed more than 40 people and the raids killed more than 50 people."),
        doc("b", "The strike on the school killed 40 people, officials said."),
        doc("c", "The strike on the school killed 40 people, the UN said."),
        doc("d", "Some 30 people were killed in the strike on the school."),
    ]
    _, conflicts = story_facts(docs)
    values = {v.value: v.documents for c in conflicts for v in c.values}
    assert values["40 people"] == ["a", "b", "c"] and values["30 people"] == ["d"]


# ------------------------------------------------------------------ dates without a year


def test_a_date_takes_the_year_nearest_the_report():
    assert only("The vote is due by January 30.", "date", "2021-10-08").value == "2022-01-30"
    assert only("The fire started on December 28.", "date", "2022-01-05").value == "2021-12-28"
    assert only("Crews arrived on March 1.", "date", "2026-03-03").value == "2026-03-01"


@pytest.mark.parametrize(
    "text",
    [
        "The new span will not open before June 20.",
        "The new span won't be opened earlier than June 20.",
        "The opening is scheduled for June 20.",
        "The new span should be finished for June 20.",
        "The new span is expected to open by June 20.",
    ],
)
def test_bounds_and_schedules_are_deadlines(text):
    assert only(text, "date", "2027-05-01").role == "deadline"


def test_a_date_is_about_the_thing_its_clause_names_not_the_speaker():
    text = "The new footbridge is expected to open by June 2, city engineer Tomas Belk said."
    assert only(text, "date").about == "new footbridge"
    spun = "Tomas Belk told the Post {that a} contemporary footbridge won't open before June 2."
    assert only(spun, "date").about == "contemporary footbridge"


def test_reworded_statements_of_one_deadline_conflict_with_the_story_year():
    docs = [
        doc("a", "The new footbridge is expected to open by June 2, city engineer Tomas Belk "
                 "said, if the weather holds.", "2027-05-01"),
        doc("b", "The new footbridge will not open before June 20, city engineer Tomas Belk said, "
                 "because the steel arrived late."),
        doc("c", "A fresh pedestrian crossing won't be opened earlier than June 20, city engineer "
                 "Tomas Belk mentioned, as the steel arrived late."),
    ]  # fmt: skip
    _, conflicts = story_facts(docs)
    assert len(conflicts) == 1, conflicts
    assert conflicts[0].kind == "date" and conflicts[0].about == "new footbridge"
    assert {v.value: v.documents for v in conflicts[0].values} == {
        "2027-06-02": ["a"],
        "2027-06-20": ["b", "c"],
    }


def test_a_date_with_and_without_its_year_agree():
    docs = [
        doc("a", "Elections in Norland are scheduled for December 15, 2013, the commission said."),
        doc("b", "Elections in Norland are planned for December 15, the commission said."),
    ]
    assert story_facts(docs)[1] == []


def test_no_year_is_guessed_when_the_story_spans_years():
    docs = [
        doc("a", "The hearing is set for May 9.", "2019-03-01"),
        doc("b", "An earlier ruling came on May 2.", "2021-03-01"),
        doc("c", "The appeal is set for May 9."),
    ]
    facts, _ = story_facts(docs)
    assert {f.value for f in facts if f.kind == "date" and f.documents == ["c"]} == {"--05-09"}


# ------------------------------------------------------------------ the real dev stories


@pytest.mark.parametrize("corpus, most", [("multinews", 0), ("ecbplus", 2)])
def test_real_stories_have_almost_no_conflicts(corpus, most):
    """Precision on real stories (grouped by their `story` field): measured 0 on Multi-News dev
    and 2 on ECB+ dev, both real disagreements about the 2009 Jabaliya school strike (30 vs 40
    killed, 55 vs about 100 wounded)."""
    import json
    from collections import defaultdict

    stories = defaultdict(list)
    for line in (DATA / corpus / "dev.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        stories[row["story"]].append(doc(row["id"], row["text"], row.get("date")))
    conflicts = [c for docs in stories.values() for c in story_facts(docs)[1]]
    assert len(conflicts) <= most, [(c.about, [v.value for v in c.values]) for c in conflicts]


_NUMBERISH = [
    "$", "€", "USD", "billion", "million", "m", "percent", "%", "per cent", "years", "year-old",
    "decade", "March", "Oct.", "the", "about", "nearly", "people", "homes", "killed", "since",
    "in", ",", ".", "-", "three", "thirteen", "hundred", "dozen", "first", "once", "1", "2008",
    "3.3", "15th", "40,000",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NUMBERISH), max_size=14))
def test_a_sentence_without_digits_or_number_words_holds_no_number_fact(tokens):
    """The facts stage skips such sentences (most of a news text): that must never lose one."""
    from storytrace.facts.values import _run_finders, may_hold_number

    text = " ".join(tokens)
    if not may_hold_number(text):
        assert _run_finders(text, None) == []
    assert may_hold_number(text) or not any(ch.isdigit() for ch in text)
