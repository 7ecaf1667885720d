"""Scoring a name against a watchlist entry's names: 0-100, with an explanation.

Tokens of the query and of each candidate name (see `normalise.prepare`) are aligned one to
one by similarity (rapidfuzz Indel ratio and Jaro-Winkler, phonetic keys, consonant skeletons
for names transliterated from Arabic or Hebrew, initials against full words, adjacent words
merged when the other side writes them as one: "Xi Jin Ping" / "Xi Jinping"). The score is the
weighted share of matched words; words left over on one side only (a missing middle name)
cost little, words left over on both sides (a different surname) cost their full weight.
The best name of the entry wins; weak aliases count less. Date of birth and country agreement
then raise or lower the score, each adjustment listed with its reason.

Pure functions, no models: `score()` works on strings or prepared names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from rapidfuzz.distance import Indel, JaroWinkler

from users.screening.normalise import ANY, PreparedName, Token, org_terms, prepare, skeleton

PRIMARY = "primary"
ALIAS = "alias"
WEAK_ALIAS = "weak_alias"

# Below this a token pair is not a match at all (both words count as unmatched).
MIN_TOKEN_SIMILARITY = 0.45
# Share of its weight an unmatched word costs when the other side has no unmatched word left
# (a missing middle name or patronymic), and when both sides have (a different word).
EXTRA_WORD_COST = 0.15
# A weak alias (AKA "the Doctor") proves less than a primary name or strong alias.
WEAK_ALIAS_FACTOR = 0.9
# A name that agrees on one word only is not a match, however long that word is.
SINGLE_WORD_FACTOR = 0.75

DOB_EXACT = 5.0
DOB_SAME_YEAR = 2.0
DOB_CONFLICT_SAME_YEAR = -5.0
DOB_ONE_YEAR_OFF = -8.0
DOB_CONFLICT = -15.0
COUNTRY_AGREES = 2.0
COUNTRY_CONFLICT = -5.0
ORG_TYPE_CONFLICT = -3.0


@dataclass(frozen=True, slots=True)
class CandidateName:
    """One name of a watchlist entry, with its kind (primary, alias, weak_alias)."""

    name: str | PreparedName
    kind: str = ALIAS


@dataclass(slots=True)
class MatchResult:
    score: float
    matched_name: str
    kind: str
    matched_tokens: list[tuple[str, str, float]] = field(default_factory=list)
    explanation: str = ""
    adjustments: list[tuple[str, float]] = field(default_factory=list)
    name_score: float = 0.0

    def is_hit(self, source_kind: str) -> bool:
        return self.score >= threshold_for(source_kind)


def threshold_for(source_kind: str) -> float:
    """The hit threshold of a source kind (SANCTIONS, PEP...) from settings.SCREENING_THRESHOLDS."""
    from django.conf import settings

    thresholds = settings.SCREENING_THRESHOLDS
    key = str(source_kind).upper()
    if key not in thresholds:
        raise ValueError(f"no screening threshold for source kind {source_kind!r}")
    return float(thresholds[key])


# --- tokens ----------------------------------------------------------------------------------


def token_similarity(a: Token, b: Token) -> float:
    """0-1 similarity of two words."""
    if a.canonical == b.canonical or a.text == b.text:
        return 1.0
    if a.is_initial or b.is_initial:
        return 0.85 if a.text[0] == b.text[0] else 0.0
    sim = (
        Indel.normalized_similarity(a.text, b.text) + JaroWinkler.normalized_similarity(a.text, b.text)
    ) / 2
    if a.canonical != a.text or b.canonical != b.text:
        sim = max(
            sim,
            (
                Indel.normalized_similarity(a.canonical, b.canonical)
                + JaroWinkler.normalized_similarity(a.canonical, b.canonical)
            )
            / 2,
        )
    if min(len(a.text), len(b.text)) / max(len(a.text), len(b.text)) < 0.75:
        # Jaro-Winkler rewards a shared prefix: nikolai is not nikolayevich.
        sim = min(sim, Indel.normalized_similarity(a.text, b.text))
    if len(a.text) > 4 and len(b.text) > 4 and a.phonetic and a.phonetic == b.phonetic:
        sim = max(sim, 0.9)
    if (
        a.text[0] == b.text[0]
        and min(len(a.text), len(b.text)) >= 5
        and len(a.skeleton) >= 3
        and a.skeleton == b.skeleton
    ):
        # Same consonants in the same order: a transliteration variant (fedorov / fyodorov).
        sim = max(sim, 0.9)
    if (a.abjad or b.abjad) and a.skeleton and b.skeleton:
        # Vowels are unreliable across Arabic/Hebrew transliterations: compare consonants.
        sim = max(sim, 0.95 * Indel.normalized_similarity(a.skeleton, b.skeleton))
    if sim < 0.9:
        # Near misses say little: two different short names (wang / huang) are often 70-80% alike.
        sim = max(0.0, 0.9 - (0.9 - sim) * 2.5)
    return sim


def _merged(tokens: Sequence[Token], start: int, size: int) -> Token:
    parts = tokens[start : start + size]
    text = "".join(t.text for t in parts)
    return Token(
        text=text,
        canonical=text,
        skeleton=skeleton(text),
        phonetic="",
        abjad=any(t.abjad for t in parts),
        weight=max(t.weight for t in parts) + 0.1 * (size - 1),
    )


JOIN_SIMILARITY = 0.88


def _may_join(merged: Token, other: Token) -> bool:
    """Whether `token_similarity(merged, other)` can reach `JOIN_SIMILARITY` (a cheap test that
    skips most pairs: the answer of `_merge_joined` is the same without it).

    A joined word has no phonetic key, so its similarity is the averaged Indel/Jaro-Winkler
    figure, capped by Indel when the lengths differ by more than a quarter — and Indel is then
    below 0.86, under the 0.892 that the near-miss stretch needs to give 0.88. Only the
    skeleton rules lift it otherwise: the same skeleton, or an abjad transliteration.
    """
    short, long = sorted((len(merged.text), len(other.text)))
    return short / long >= 0.75 or merged.skeleton == other.skeleton or merged.abjad or other.abjad


def _merge_joined(side: Sequence[Token], other: Sequence[Token]) -> tuple[Token, ...]:
    """Join adjacent words of `side` when the other side writes them as one word."""
    side = list(side)
    if len(side) < 2 or not other:
        return tuple(side)
    for size in (3, 2):
        i = 0
        while i + size <= len(side):
            if any(t.is_initial for t in side[i : i + size]):
                i += 1
                continue
            merged = _merged(side, i, size)
            best_joined = max(
                (token_similarity(merged, o) for o in other if _may_join(merged, o)), default=0.0
            )
            if best_joined < JOIN_SIMILARITY:
                i += 1
                continue
            # Particles (al, bin) match each other everywhere: they do not argue against joining.
            best_single = max(
                (token_similarity(t, o) for t in side[i : i + size] if t.weight > 0.3 for o in other),
                default=0.0,
            )
            if best_joined > best_single:
                side[i : i + size] = [merged]
            i += 1
    return tuple(side)


@dataclass(slots=True)
class _Alignment:
    score: float
    pairs: list[tuple[Token, Token, float]]
    unmatched_query: list[Token]
    unmatched_candidate: list[Token]


def align(query: PreparedName, candidate: PreparedName) -> _Alignment:
    """Best one-to-one assignment of words (greedy on similarity; names have few words)."""
    q_tokens = _merge_joined(query.tokens, candidate.tokens)
    c_tokens = _merge_joined(candidate.tokens, q_tokens)
    if not q_tokens or not c_tokens:
        return _Alignment(0.0, [], list(q_tokens), list(c_tokens))
    sims = sorted(
        (
            (token_similarity(q, c), -abs(i - j), i, j)
            for i, q in enumerate(q_tokens)
            for j, c in enumerate(c_tokens)
        ),
        reverse=True,
    )
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[Token, Token, float]] = []
    for sim, _distance, i, j in sims:
        if sim < MIN_TOKEN_SIMILARITY:
            break
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((q_tokens[i], c_tokens[j], sim))
    unmatched_q = [t for i, t in enumerate(q_tokens) if i not in used_q]
    unmatched_c = [t for j, t in enumerate(c_tokens) if j not in used_c]
    matched_weight = sum((q.weight + c.weight) / 2 for q, c, _ in pairs)
    numerator = sum(sim * (q.weight + c.weight) / 2 for q, c, sim in pairs)
    conflict = bool(unmatched_q) and bool(unmatched_c)
    cost = 1.0 if conflict else EXTRA_WORD_COST
    penalty = cost * (sum(t.weight for t in unmatched_q) + sum(t.weight for t in unmatched_c))
    if conflict:
        # Words on both sides disagree: each unmatched pair costs the heavier side once.
        penalty = max(sum(t.weight for t in unmatched_q), sum(t.weight for t in unmatched_c))
    denominator = matched_weight + penalty
    value = numerator / denominator if denominator else 0.0
    substantive = [p for p in pairs if p[0].weight >= 0.6]
    generic_rest = not conflict and all(t.text in org_terms() for t in unmatched_q + unmatched_c)
    if len(substantive) < 2 and max(len(q_tokens), len(c_tokens)) >= 2 and not generic_rest:
        value *= SINGLE_WORD_FACTOR
    return _Alignment(value * 100, pairs, unmatched_q, unmatched_c)


# --- dates and countries ---------------------------------------------------------------------

_DATE_PARTS = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


def _date_parts(value: str | date | None) -> tuple[int, int | None, int | None] | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.year, value.month, value.day
    found = _DATE_PARTS.match(str(value).strip())
    if not found:
        raise ValueError(f"date of birth must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    year, month, day = found.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def dob_adjustment(query_dob, candidate_dobs: Iterable) -> tuple[str, float] | None:
    """The best (highest) adjustment over the entry's dates of birth, None when either side has none."""
    query = _date_parts(query_dob)
    candidates = [parts for parts in (_date_parts(d) for d in candidate_dobs) if parts]
    if not query or not candidates:
        return None
    best: tuple[str, float] | None = None
    for cand in candidates:
        year_gap = abs(query[0] - cand[0])
        if year_gap == 0:
            fields = [(q, c) for q, c in zip(query[1:], cand[1:], strict=True) if q and c]
            if any(q != c for q, c in fields):
                found = (f"date of birth same year, different day ({_fmt(cand)})", DOB_CONFLICT_SAME_YEAR)
            elif len(fields) == 2:
                found = (f"date of birth agrees ({_fmt(cand)})", DOB_EXACT)
            else:
                found = (f"year of birth agrees ({cand[0]})", DOB_SAME_YEAR)
        elif year_gap == 1:
            found = (f"year of birth one year off ({cand[0]})", DOB_ONE_YEAR_OFF)
        else:
            found = (f"date of birth disagrees ({_fmt(cand)})", DOB_CONFLICT)
        if best is None or found[1] > best[1]:
            best = found
    return best


def _fmt(parts: tuple[int, int | None, int | None]) -> str:
    return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts) if p)


def country_adjustment(query_country, candidate_countries: Iterable[str]) -> tuple[str, float] | None:
    if not query_country:
        return None
    query = {query_country.upper()} if isinstance(query_country, str) else {c.upper() for c in query_country}
    candidates = {c.upper() for c in candidate_countries if c}
    if not query or not candidates:
        return None
    common = query & candidates
    if common:
        return f"country agrees ({', '.join(sorted(common))})", COUNTRY_AGREES
    return f"country disagrees ({', '.join(sorted(candidates))})", COUNTRY_CONFLICT


# --- the score -------------------------------------------------------------------------------


def _candidates(names: Iterable[str | PreparedName | CandidateName], schema: str) -> list[CandidateName]:
    result = []
    for index, item in enumerate(names):
        if not isinstance(item, CandidateName):
            item = CandidateName(item, PRIMARY if index == 0 else ALIAS)
        name = item.name if isinstance(item.name, PreparedName) else prepare(item.name, schema=schema)
        result.append(CandidateName(name, item.kind))
    return result


def score(
    query: PreparedName | str,
    names: Iterable[str | PreparedName | CandidateName],
    *,
    query_dob=None,
    candidate_dobs: Iterable = (),
    query_country=None,
    candidate_countries: Iterable[str] = (),
    schema: str = ANY,
) -> MatchResult:
    """Score a query name against one watchlist entry's names (0-100), explained.

    `names` are the entry's names: strings (the first is the primary name, the others
    aliases), prepared names, or `CandidateName`s carrying their kind (weak aliases count
    less). Dates are YYYY[-MM[-DD]] strings or dates; countries are codes compared as given.
    """
    prepared_query = query if isinstance(query, PreparedName) else prepare(query, schema=schema)
    best: tuple[float, CandidateName, _Alignment] | None = None
    for candidate in _candidates(names, schema):
        alignment = align(prepared_query, candidate.name)
        value = alignment.score * (WEAK_ALIAS_FACTOR if candidate.kind == WEAK_ALIAS else 1.0)
        if best is None or value > best[0]:
            best = (value, candidate, alignment)
    if best is None:
        return MatchResult(0.0, "", "", explanation="the entry has no names")
    name_score, candidate, alignment = best
    adjustments: list[tuple[str, float]] = []
    if candidate.kind == WEAK_ALIAS and alignment.score:
        adjustments.append(("weak alias", round(name_score - alignment.score, 1)))
    q_type, c_type = prepared_query.org_type, candidate.name.org_type
    if q_type and c_type and q_type != c_type:
        adjustments.append((f"legal form differs ({q_type} / {c_type})", ORG_TYPE_CONFLICT))
    for found in (
        dob_adjustment(query_dob, candidate_dobs),
        country_adjustment(query_country, candidate_countries),
    ):
        if found:
            adjustments.append(found)
    total = name_score + sum(delta for reason, delta in adjustments if reason != "weak alias")
    total = round(max(0.0, min(100.0, total)), 1)
    matched_tokens = [(q.text, c.text, round(sim, 3)) for q, c, sim in alignment.pairs]
    return MatchResult(
        score=total,
        matched_name=candidate.name.original,
        kind=candidate.kind,
        matched_tokens=matched_tokens,
        explanation=_explain(candidate, alignment, adjustments, total),
        adjustments=adjustments,
        name_score=round(name_score, 1),
    )


def _explain(candidate: CandidateName, alignment: _Alignment, adjustments, total: float) -> str:
    kind = candidate.kind.replace("_", " ")
    parts = [f'{total:g}/100 on {kind} "{candidate.name.original}"']
    if alignment.pairs:
        words = ", ".join(
            f"{q.text}={c.text}" if sim >= 0.999 else f"{q.text}~{c.text} {sim:.0%}"
            for q, c, sim in alignment.pairs
        )
        parts.append(f"matched {words}")
    else:
        parts.append("no word matched")
    if alignment.unmatched_query:
        parts.append("query words not found: " + ", ".join(t.text for t in alignment.unmatched_query))
    if alignment.unmatched_candidate:
        parts.append("entry words not found: " + ", ".join(t.text for t in alignment.unmatched_candidate))
    for reason, delta in adjustments:
        parts.append(f"{reason} {delta:+g}")
    return "; ".join(parts)
