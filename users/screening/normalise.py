"""Names to comparable tokens, for the screening matcher.

`prepare(name)` turns one name into a `PreparedName` once (transliteration to ASCII via
rigour, case, accents, punctuation, honorifics, legal forms mapped to a coarse canonical
type, nicknames resolved to their canonical given name); `users.screening.matching.score`
then compares prepared names many times. Pure functions: no models, no database, so
candidate retrieval, customer screening and the evaluation can all use them.

Word lists live in `users/screening/data/` (see its README for sources and licences); legal
forms come from `rigour.names.org_types` (OpenSanctions' org_types.yml).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rigour.names import extract_org_types
from rigour.text.phonetics import metaphone
from rigour.text.scripts import text_scripts
from rigour.text.translit import ascii_text

DATA_DIR = Path(__file__).parent / "data"

PERSON = "Person"
ORGANIZATION = "Organization"
VESSEL = "Vessel"
AIRCRAFT = "Aircraft"
ANY = "Any"
SCHEMAS = (PERSON, ORGANIZATION, VESSEL, AIRCRAFT, ANY)
# Names of things: no titles, no nicknames, no legal forms (an "MV" prefix is just a word).
OBJECT_SCHEMAS = frozenset({VESSEL, AIRCRAFT})

# Scripts that write no (or few) vowels: their Latin forms are compared by consonant skeleton.
ABJAD_SCRIPTS = frozenset({"Arabic", "Hebrew", "Syriac", "Thaana"})

PATRONYMIC_ENDINGS = ("ovich", "evich", "ovna", "evna", "ovych", "ivna")

# Apostrophes and ayin marks join the word (O'Brien, Ma'mun); rigour writes "?" for an ayin.
_APOSTROPHES = re.compile("['\u2019`\u02bb\u02bc\u00b4?]")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouwy]")
_DOUBLES = re.compile(r"(.)\1+")


def _read_lines(filename: str) -> list[str]:
    lines = (DATA_DIR / filename).read_text(encoding="utf-8").splitlines()
    return [line.strip().lower() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def nicknames() -> dict[str, str]:
    """Diminutive -> canonical given name (a canonical name maps to itself)."""
    table: dict[str, str] = {}
    for line in _read_lines("nicknames.csv"):
        canonical, *diminutives = [part.strip() for part in line.split(",")]
        table.setdefault(canonical, canonical)
        for diminutive in diminutives:
            # An ambiguous diminutive (chris, pat, sasha) keeps its first canonical form.
            table.setdefault(diminutive, canonical)
    return table


@lru_cache(maxsize=1)
def honorifics() -> frozenset[str]:
    return frozenset(_read_lines("honorifics.txt"))


@lru_cache(maxsize=1)
def particles() -> frozenset[str]:
    return frozenset(_read_lines("particles.txt"))


@lru_cache(maxsize=1)
def org_terms() -> frozenset[str]:
    return frozenset(_read_lines("org_terms.txt"))


@dataclass(frozen=True, slots=True)
class Token:
    """One comparable word of a name."""

    text: str  # ASCII, lower case, as written (after transliteration)
    canonical: str  # nickname resolved (robert for bob); equal to text otherwise
    skeleton: str  # consonants only, doubles collapsed: mohammed/muhammad -> mhmd
    phonetic: str  # metaphone
    abjad: bool  # transliterated from a script without vowels (Arabic, Hebrew)
    weight: float  # how much the word says about identity

    @property
    def is_initial(self) -> bool:
        return len(self.text) == 1


@dataclass(frozen=True, slots=True)
class PreparedName:
    """A name ready to be compared: built once per watchlist name, compared many times."""

    original: str
    schema: str
    tokens: tuple[Token, ...]
    org_type: str | None = None  # coarse canonical legal form (llc, jsc...) when one was found

    @property
    def comparable(self) -> str:
        """The tokens in a canonical order, as one string (for display and blocking)."""
        return " ".join(sorted(token.canonical for token in self.tokens))

    def __bool__(self) -> bool:
        return bool(self.tokens)


def skeleton(word: str) -> str:
    """Consonant skeleton: vowels (and w/y, Arabic's long vowels) dropped, doubles collapsed."""
    return _DOUBLES.sub(r"\1", _VOWELS.sub("", word))


def _weight(word: str) -> float:
    if word in particles():
        return 0.25
    if len(word) == 1:
        return 0.6
    base = 0.6 + 0.1 * min(len(word), 8)
    if len(word) > 6 and word.endswith(PATRONYMIC_ENDINGS):
        # Russian patronymics are often left out (and sound alike): they weigh less.
        return base * 0.5
    if word in org_terms():
        return base * 0.6
    return base


def to_ascii(text: str) -> str:
    """Transliterate any script to lower-case ASCII (Cyrillic, Greek, Arabic, Han as pinyin...)."""
    text = unicodedata.normalize("NFKC", text)
    return _APOSTROPHES.sub("", ascii_text(text)).lower()


def _words(name: str, *, strip_titles: bool) -> list[tuple[str, bool]]:
    """(ASCII word, from an abjad script) for each word of the name, leading titles dropped."""
    raw_words = unicodedata.normalize("NFKC", name).split()
    if strip_titles:
        titles = honorifics()
        while len(raw_words) > 1 and _SEPARATORS.sub("", to_ascii(raw_words[0])) in titles:
            raw_words.pop(0)
    words: list[tuple[str, bool]] = []
    for raw in raw_words:
        abjad = bool(text_scripts(raw) & ABJAD_SCRIPTS)
        for part in _SEPARATORS.split(to_ascii(raw)):
            if not part:
                continue
            if abjad and part.startswith("al") and len(part) > 4:
                # The Arabic article is written joined to the word (الرحمن -> alrhmn).
                words.append(("al", True))
                part = part[2:]
            words.append((part, abjad))
    return words


def prepare(name: str, *, schema: str = ANY) -> PreparedName:
    """Normalise one name into comparable tokens.

    `schema` is Person, Organization, Vessel, Aircraft or Any: persons lose honorifics and have
    nicknames resolved, organisations lose their legal form (kept as `org_type`), vessels and
    aircraft are only folded; Any tries the legal form first and, without one, treats the name
    as a person's.
    """
    if schema not in SCHEMAS:
        raise ValueError(f"schema must be one of {', '.join(SCHEMAS)}, not {schema!r}")
    original = name or ""
    org_type = None
    working = original
    if schema in (ORGANIZATION, ANY):
        lowered = unicodedata.normalize("NFKC", original).casefold()
        found = extract_org_types(lowered, generic=True)
        if found:
            org_type = found[-1][1]
            for matched, _canonical in found:
                lowered = re.sub(rf"(?<!\w){re.escape(matched)}(?!\w)", " ", lowered)
            working = lowered
    # Honorifics are looked for on the ASCII form, so Cyrillic/Arabic titles are found too.
    strip_titles = schema == PERSON or (schema == ANY and org_type is None)
    table = nicknames() if strip_titles else {}
    tokens = []
    for word, abjad in _words(working, strip_titles=strip_titles):
        tokens.append(
            Token(
                text=word,
                canonical=table.get(word, word),
                skeleton=skeleton(word),
                phonetic=metaphone(word) if word.isalpha() else word,
                abjad=abjad,
                weight=_weight(word),
            )
        )
    return PreparedName(original=original, schema=schema, tokens=tuple(tokens), org_type=org_type)
