"""The few tuned constants of the facts stage, with what chose them.

Everything else in the stage is a rule from general knowledge of news prose (reporting verbs,
title words, how appositives and relative clauses attach a number to a name).
"""

# Money or quantity values further apart than this ratio describe different amounts (a part and
# the whole, a yearly and a total budget), not two reports of one amount. Sources that disagree
# about one size round or misreport it (seeds: $3.3 billion vs $3 billion, ratio 1.1); 2.0 keeps
# those and drops e.g. "$1 billion" vs "$3.3 billion" pairs about one programme.
MAX_CONFLICT_RATIO = 2.0

# A quote needs this many words to be a fact of its own; shorter quoted spans are mostly scare
# quotes or titles ("hugs not bullets" has 3 and is kept; a one-word “safe” is not).
MIN_QUOTE_WORDS = 2

# How far (in words) a reporting clause may sit from the quote it attributes: "”, Matteo
# Borrini, a forensic scientist at Liverpool John Moores University in the United Kingdom,
# told" (16 words, Multi-News dev) fits; a verb further on belongs to another statement.
MAX_ATTRIBUTION_WORDS = 20

# Two values that this many documents each state side by side are two amounts the sources know
# apart ("$334 million, including $281 million in cash": ECB+ topic 43, stated together by 2
# documents), not a disagreement. One document stating both stays a conflict: the seeds' CNN
# report quotes the Mérida Initiative as 13 and as "some 15" years old.
MIN_SIDE_BY_SIDE_DOCUMENTS = 2

# "about N" agrees with a value that rounds to N at N's last significant digit AND lies within
# this fraction of N: "about $973,000" = $972,814 and "almost $1 million" = $964,502
# (Multi-News dev, 2 of 2 such pairs are roundings), but "about 100 people" != 70 (ECB+ topic
# 19: 30% apart is a different count even though 70 rounds to 100).
APPROX_TOLERANCE = 0.10

# Two sentences that share this fraction of the shorter one's content words state one thing,
# so the dates in them are about the same thing even when each names it differently. The demo's
# repair-date sentence and its machine-translated copy share 0.45 ("A permanent repair is
# expected to be completed by April 15, spokeswoman Priya Castellane said" / "A definitive
# reparation should be finished for April 15, ... said the spokeswoman Priya Castellane"), a
# spun copy of the other outlet's 0.33 ("Spokeswoman Priya Castellane informed the Ledger {that
# a} everlasting restore wouldn't be completed earlier than April 30"). Only deadlines are
# joined; at 1/3 the Multi-News and ECB+ dev stories join no two that disagree.
SAME_STATEMENT_OVERLAP = 1 / 3

# A story's documents dated within this many days report one moment of it, so their earliest
# date is what an undated copy's "April 15" is read against (the demo's wire copies carry no
# date; the Ledger page is dated 2026-03-03). Wider spreads leave such dates without a year.
STORY_DATE_SPAN_DAYS = 31

# The most time the facts of one document may take. A news article takes milliseconds (the
# 10,000-document bench: 25 CPU s in all); a page of 20,000 amounts in one sentence took 18 s
# before the finders were made linear. Past the budget a document keeps the facts found so far
# and gets a note, so one pathological page cannot stall a run.
FACTS_SECONDS_PER_DOCUMENT = 10.0

# Facts are searched for in the first this many characters of a document. A news article is a
# few thousand (the 10,000-document bench: 5 kB on average, the longest 120 kB); a 5 MB page of
# 100,000 quotes took 69 s. Deterministic, unlike the time budget above: the same input gives
# the same facts on any machine.
FACTS_MAX_CHARS = 300_000

# The most facts kept of one document, in text order. The 291 Multi-News dev articles state
# at most 134 (a 19 kB report); a page of 20,000 amounts in one sentence is a table or spam,
# and its facts made every later step (merging, conflicts, the report) slow. Past it a
# document keeps its first facts and gets a note.
FACTS_MAX_PER_DOCUMENT = 1_000
