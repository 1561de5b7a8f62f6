"""From an Alignment to a relation kind, with the evidence a reader can check."""

from __future__ import annotations

from collections import Counter

from storytrace.match.align import Alignment
from storytrace.match.options import MatchOptions


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def classify(al: Alignment, options: MatchOptions | None = None,
             identical: bool = False) -> tuple[str, float, list[str]]:
    """(kind, score, evidence) for an aligned pair; kind "none" when it is not a copy."""
    options = options or MatchOptions()
    m = al.metrics
    if identical:
        return "verbatim", 1.0, ["the clean texts are identical"]
    short_is_a = m["words_a"] <= m["words_b"]
    s, l_ = ("a", "b") if short_is_a else ("b", "a")
    cov_s, cov_l = m[f"coverage_{s}"], m[f"coverage_{l_}"]
    exact, order, aligned = m["exact"], m["order"], m["aligned"]
    evidence = [
        (f"{_pct(m['coverage_a'])} of a's words and {_pct(m['coverage_b'])} of b's are in "
        f"{aligned} aligned sentences, {_pct(order)} in the same order"),
    ]
    if aligned and exact:
        evidence.append(f"{_pct(exact)} of aligned sentences are identical")
    kind = "none"
    if aligned >= 1 and exact >= 0.9 and cov_s >= 0.9:
        long_sents = al.b if short_is_a else al.a
        aligned_long = sorted(j if short_is_a else i for i, j, _, _ in al.pairs)
        usable = [k for k, sent in enumerate(long_sents) if sent.n_words >= options.min_sentence_words]
        inner = [k for k in usable if aligned_long[0] < k < aligned_long[-1] and k not in set(aligned_long)]
        before = [k for k in usable if k < aligned_long[0]]
        after = [k for k in usable if k > aligned_long[-1]]
        if cov_l >= 0.97 and not inner:
            kind = "verbatim" if not before and not after else "wrapped"
        elif not before and not inner and after and cov_l <= 0.8:
            kind = "truncated"
            evidence.append(f"{s} is the first {_pct(cov_l)} of {l_}, in order, from the start")
        elif cov_l < options.copy_coverage_long:
            kind = "partial"
            evidence.append(f"all of {s} appears in {l_}, but as passages of a longer article")
        elif inner:
            kind = "edited"
            evidence.append(f"{len(inner)} sentences of the longer text are not in the shorter")
        else:
            kind = "wrapped"
            evidence.append(f"the same article text with {len(before) + len(after)} extra "
                            f"lines around it in {l_}")
    elif aligned >= 3 and cov_s >= options.copy_coverage and cov_l >= options.copy_coverage_long \
            and m["mean_similarity"] >= 0.6:
        spunlike, reworded = m["spunlike"], m["reworded"]
        indel = m.get("indel_share", 0.0)
        in_place = round(spunlike * aligned)
        # A spinner swaps words in place: sentences keep their order and length, nothing is
        # inserted or deleted around the swaps. A translator also adds and drops function words
        # and moves clauses, which shows as inserted/deleted words (indel_share).
        if order >= options.spun_min_order and indel <= options.spun_max_indel and \
                in_place >= options.spun_min_sentences and spunlike >= options.spun_share:
            kind = "spun"
            evidence.append(f"{_pct(spunlike)} of aligned sentences keep their structure with "
                            f"words swapped in place ({_pct(indel)} of their words inserted or "
                            f"deleted)")
        elif reworded >= options.reworded_share or order < options.spun_min_order or \
                indel > options.spun_max_indel:
            # An update leaves most sentences identical; a round trip changes nearly all.
            kind = "edited" if exact >= options.edited_min_exact \
                and reworded < 2 * options.reworded_share else "translated"
        else:
            kind = "edited"
        if kind == "edited":
            evidence.append("most sentences equal, some added or changed")
        subs = Counter(al.substitutions).most_common(5)
        if subs and kind != "edited":
            evidence.append("word substitutions: " + ", ".join(f"{x}->{y}" for (x, y), _ in subs))
        if kind == "translated":
            evidence.append(f"aligned by names, numbers and meaning; {_pct(reworded)} of aligned "
                            f"sentences reworded (mean character similarity "
                            f"{m['mean_ratio']:.2f})")
    elif m["strong"] >= options.partial_min_strong and aligned >= 2:
        kind = "partial"
        evidence.append(f"{m['strong']} passages reused; most of both texts differ")
    if m.get("quotes"):
        evidence.append(f"{_pct(m['quotes_kept'])} of a's quotations appear verbatim in b")
    score = {"none": 0.0, "partial": max(m["coverage_a"], m["coverage_b"])}.get(
        kind, min(1.0, 0.5 * cov_s + 0.5 * m["mean_similarity"]))
    return kind, round(float(score), 4), evidence


__all__ = ["classify"]
