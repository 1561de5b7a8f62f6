"""The facts stage: what sources say (numbers, dates, quotes) and where they disagree."""

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storytrace.facts import extract_facts, story_facts
from storytrace.facts.entities import entity_key
from storytrace.model import Document, DocumentResult, Signals

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
    assert only("Nearly 100,000 individuals are missing.", "quantity").value == "100000 individuals"


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
