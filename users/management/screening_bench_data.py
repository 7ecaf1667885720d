"""Generated watchlists for `make bench-screening`: a million entries, loaded with COPY.

Names come from a generated vocabulary (syllables) with Zipf-distributed frequencies, so some
words are as common as "Mohammed" or "Wang" on real lists and most are rare, plus the
evaluation generator's real name tables. A quarter of the entries are organisations; four in
ten have one or two aliases. Every name goes through the product's own `prepare`, `dump` and
`name_keys`, so the index is the one an import would build; only the writing is different
(COPY from two processes instead of the importer's INSERTs, which would take ~5 minutes).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from django.db import connection, connections
from django.utils import timezone

from users.screening import evaluation as ev
from users.screening import index
from users.screening.normalise import ORGANIZATION, PERSON, prepare

CHUNK = 20_000
NAMES_PER_ENTRY = 4  # id space reserved per entry for its names
ONSETS = ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "kh", "ch", "j"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou", "ia"]
CODAS = ["", "", "", "n", "r", "v", "s", "d", "k", "m", "l", "t"]
COUNTRIES = ["RU", "IR", "SY", "KP", "CN", "AE", "TR", "VE", "BY", "IQ", "LB", "AF", "GB", "US", "DE", "FR"]
FORMS = ["LLC", "Ltd", "GmbH", "JSC", "S.A.", "PLC", "Inc.", "OOO", ""]


# The customers' own names sound different from the list's (other onsets), so that most of
# them are not on the list, as in a real customer base.
CUSTOMER_ONSETS = ["br", "tr", "gr", "pl", "fl", "st", "sp", "dr", "cl", "w", "y", "qu", "x", "sk"]


def _word(rng: random.Random, onsets: list[str] = ONSETS) -> str:
    syllables = rng.choice((2, 2, 3, 3, 3, 4))
    text = "".join(rng.choice(onsets) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
    return text.capitalize()


@dataclass
class Vocabulary:
    given: list[str]
    surnames: list[str]
    stems: list[str]
    given_cum: list[float]
    surname_cum: list[float]
    stem_cum: list[float]

    @staticmethod
    def build(
        seed: int, *, given: int = 8_000, surnames: int = 150_000, stems: int = 60_000, real: bool = True
    ) -> Vocabulary:
        """Real names first (the most frequent ranks), generated ones after; Zipf weights.
        Without `real`, generated words only (the bench's customers, mostly not on the list)."""
        rng = random.Random(seed)  # noqa: S311 (synthetic data)
        real_given = [*ev.ENGLISH_GIVEN, *(g[0] for g in ev.RUSSIAN_GIVEN)]
        real_given += [g[0][0] for g in ev.ARABIC_GIVEN] + [g[0] for g in ev.LATIN_DIACRITIC_GIVEN]
        real_surnames = [*ev.ENGLISH_SURNAMES, *(s[0] for s in ev.RUSSIAN_SURNAMES)]
        real_surnames += [s[0][0] for s in ev.ARABIC_FAMILY] + [s[0] for s in ev.CHINESE_SURNAMES]
        onsets = ONSETS if real else CUSTOMER_ONSETS
        if not real:
            real_given, real_surnames = [], []

        def pool(real: list[str], size: int) -> list[str]:
            seen = set(real)
            words = list(real)
            while len(words) < size:
                word = _word(rng, onsets)
                if word not in seen:
                    seen.add(word)
                    words.append(word)
            return words

        def zipf(size: int) -> list[float]:
            return list(accumulate(1.0 / rank for rank in range(1, size + 1)))

        return Vocabulary(
            given=pool(real_given, given),
            surnames=pool(real_surnames, surnames),
            stems=pool(list(ev.ORG_STEMS) if real else [], stems),
            given_cum=zipf(given),
            surname_cum=zipf(surnames),
            stem_cum=zipf(stems),
        )

    @staticmethod
    def _pick(rng: random.Random, words: list[str], cum: list[float]) -> str:
        return words[bisect.bisect_left(cum, rng.random() * cum[-1])]

    def person(self, rng: random.Random) -> list[str]:
        parts = [self._pick(rng, self.given, self.given_cum)]
        if rng.random() < 0.3:
            parts.append(self._pick(rng, self.given, self.given_cum))
        parts.append(self._pick(rng, self.surnames, self.surname_cum))
        return parts

    def organisation(self, rng: random.Random) -> str:
        words = [self._pick(rng, self.stems, self.stem_cum)]
        if rng.random() < 0.4:
            words.append(self._pick(rng, self.stems, self.stem_cum))
        words.append(rng.choice(ev.ORG_SECTORS))
        form = rng.choice(FORMS)
        return " ".join(words + ([form] if form else []))


def entry_record(vocab: Vocabulary, number: int, seed: int) -> dict:
    """Entry `number` of the generated list (deterministic: its own random stream)."""
    rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 (synthetic data)
    if rng.random() < 0.25:
        name = vocab.organisation(rng)
        aliases = [vocab.organisation(rng)] if rng.random() < 0.3 else []
        return {
            "schema": "ORGANISATION",
            "name": name,
            "aliases": [{"name": a, "strength": "strong"} for a in aliases],
            "birth_dates": [],
            "countries": [rng.choice(COUNTRIES)],
            "nationalities": [],
        }
    parts = vocab.person(rng)
    aliases = []
    if rng.random() < 0.4:
        aliases.append(" ".join([parts[-1], *parts[:-1]]))  # surname first
        if rng.random() < 0.5:
            aliases.append(" ".join([vocab._pick(rng, vocab.given, vocab.given_cum), parts[-1]]))
    year = rng.randint(1940, 2000)
    dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.6 else str(year)
    return {
        "schema": "PERSON",
        "name": " ".join(parts),
        "aliases": [{"name": a, "strength": "strong" if i == 0 else "weak"} for i, a in enumerate(aliases)],
        "birth_dates": [dob] if rng.random() < 0.8 else [],
        "countries": [],
        "nationalities": [rng.choice(COUNTRIES)] if rng.random() < 0.7 else [],
    }


def perturb(rng: random.Random, name: str) -> str:
    """A name as a customer or a payment might write it: typo, order, a missing middle name."""
    words = name.split()
    roll = rng.random()
    if roll < 0.3:
        i = rng.randrange(len(words))
        words[i] = ev._typo(rng, words[i])
    elif roll < 0.55 and len(words) > 1:
        words = [words[-1], *words[:-1]]
    elif roll < 0.7 and len(words) > 2:
        del words[1]
    elif roll < 0.8:
        words = [w.upper() for w in words]
    return " ".join(words)


# --- loading -------------------------------------------------------------------------------


def _chunk_rows(
    vocab: Vocabulary, source_id: int, seed: int, chunk: int, size: int, entry_base: int, name_base: int
) -> Iterator[tuple[str, tuple]]:
    now = timezone.now()
    for j in range(size):
        number = chunk * CHUNK + j
        rec = entry_record(vocab, number, seed)
        entry_id = entry_base + number
        md5 = hashlib.md5(json.dumps(rec, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
        yield (
            "entry",
            (
                entry_id,
                source_id,
                f"BENCH-{number}",
                rec["schema"],
                rec["name"],
                json.dumps(rec["aliases"]),
                json.dumps(rec["birth_dates"]),
                "[]",
                json.dumps(rec["nationalities"]),
                json.dumps(rec["countries"]),
                "[]",
                '["BENCH"]',
                json.dumps(rec),
                md5,
                now,
                now,
            ),
        )
        schema = PERSON if rec["schema"] == "PERSON" else ORGANIZATION
        texts = [(rec["name"], "primary")] + [
            (a["name"], "strong-alias" if a["strength"] == "strong" else "weak-alias") for a in rec["aliases"]
        ]
        for k, (text, kind) in enumerate(texts[:NAMES_PER_ENTRY]):
            prepared = prepare(text, schema=schema)
            name_id = name_base + number * NAMES_PER_ENTRY + k
            yield "name", (name_id, entry_id, text, kind, json.dumps(index.dump(prepared)))
            keys = index.name_keys(prepared) | index.year_keys(
                prepared, index.birth_years(rec["birth_dates"])
            )
            for key in keys:
                yield "key", (key, name_id)


ENTRY_COLUMNS = (
    "id, source_id, external_id, schema, name, aliases, birth_dates, birth_places, nationalities, "
    "countries, identifiers, programmes, raw, md5, created_at, updated_at"
)


def load_chunk(args: tuple) -> int:
    """Generate and COPY one chunk of entries, their names and keys (in a pool worker)."""
    seed, source_id, chunk, size, entry_base, name_base = args
    vocab = _vocabulary(seed)
    connections.close_all()
    rows = 0
    buffers: dict[str, list[tuple]] = {"entry": [], "name": [], "key": []}
    for table, row in _chunk_rows(vocab, source_id, seed, chunk, size, entry_base, name_base):
        buffers[table].append(row)
        rows += 1
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers: the ids are ours
        for table, sql in (
            ("entry", f"COPY users_watchlistentry ({ENTRY_COLUMNS}) FROM STDIN"),
            ("name", "COPY users_watchlistname (id, entry_id, name, kind, prepared) FROM STDIN"),
            ("key", "COPY users_watchlistnamekey (key, name_id) FROM STDIN"),
        ):
            with cursor.copy(sql) as copy:
                for row in buffers[table]:
                    copy.write_row(row)
    connections.close_all()
    return rows


_VOCAB: dict[int, Vocabulary] = {}


def _vocabulary(seed: int) -> Vocabulary:
    if seed not in _VOCAB:
        _VOCAB[seed] = Vocabulary.build(seed)
    return _VOCAB[seed]


# --- customers -----------------------------------------------------------------------------

LISTED_CUSTOMERS = 0.01  # share of the bench's customers named (as written by them) like an entry


def rename_customers(total: int, seed: int, entries: int) -> int:
    """Give the customers `bench_data.load` made (ids 1..total) names of their own: generated
    words from another vocabulary than the list's, and for 1% a listed entry's name as a
    customer would write it, with its date of birth. Answers how many were given listed names."""
    rng = random.Random(seed + 7)  # noqa: S311 (synthetic data)
    own = Vocabulary.build(seed + 101, real=False)
    listed_vocab = _vocabulary(seed)
    listed = 0
    rows = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, customer_type_id FROM users_customer ORDER BY id")
        kinds = cursor.fetchall()
    for pk, kind in kinds:
        if rng.random() < LISTED_CUSTOMERS:
            rec = entry_record(listed_vocab, rng.randrange(entries), seed)
            if (rec["schema"] == "PERSON") == (kind == 1):
                listed += 1
                name = perturb(rng, rec["name"])
                dob = (
                    rec["birth_dates"][0] if rec["birth_dates"] and len(rec["birth_dates"][0]) == 10 else None
                )
                rows.append((pk, name, dob))
                continue
        rows.append((pk, " ".join(own.person(rng)) if kind == 1 else own.organisation(rng), None))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_names (id int, name text, dob date)")
        with cursor.copy("COPY bench_names (id, name, dob) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE users_customer c SET "
            "first_name = CASE WHEN c.customer_type_id = 1 THEN split_part(b.name, ' ', 1) ELSE '' END, "
            "last_name = CASE WHEN c.customer_type_id = 1 "
            "THEN substr(b.name, length(split_part(b.name, ' ', 1)) + 2) ELSE '' END, "
            "registered_name = CASE WHEN c.customer_type_id = 2 THEN b.name ELSE c.registered_name END, "
            "date_birth = COALESCE(b.dob, c.date_birth) FROM bench_names b WHERE b.id = c.id"
        )
        cursor.execute("DROP TABLE bench_names")
        cursor.execute("VACUUM (ANALYZE) users_customer")
    return listed


def screen_chunk(ids: list[int]) -> int:
    """Screen customers `ids` with the product's own `screen_customers` (in a pool worker, as
    a worker runs a chunk of a bulk re-screening); answers how many were screened."""
    from compliance.audit import Actor
    from users.screening.customers import screen_customers

    connections.close_all()
    screen_customers(customer_ids=ids, actor=Actor.system_actor("bench-screening"))
    connections.close_all()
    return len(ids)
