"""The labelled evaluation set of the screening matcher (issue 6, point 5), and its measurement.

`generate_pairs(seed)` builds, deterministically, a synthetic watchlist of persons and
organisations from several cultures and scripts and query/entry pairs: true matches with
typos, transliterations (Cyrillic, Arabic, Han, Greek forms of Latin names and back; Arabic
and Russian spelling variants), swapped or missing name parts, nicknames, lost diacritics,
honorifics, initials and legal-form changes; and hard negatives (shared surnames, same first
name with another surname, similar company names). `tests/data/screening_eval.jsonl` is its
committed output (`manage.py evaluate_matcher --regenerate` rewrites it).

The generator writes its own spellings and scripts from the hand-made tables below; it does not
call the matcher's normalisation. Nicknames: half the pairs use diminutives that are also in the
matcher's table (`data/nicknames.csv`), half use diminutives that are not, so the figure shows
what the table does not know.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

# --- name tables (the generator's own; scripts written by hand) -------------------------------

ENGLISH_GIVEN = [
    "John", "James", "Mary", "Patricia", "Linda", "Susan", "Karen", "Nancy", "Paul", "Mark", "George",
    "Kevin", "Brian", "Laura", "Emily", "Helen", "Sarah", "Arthur", "Oliver", "Harold", "Walter",
]  # fmt: skip
ENGLISH_SURNAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Hall", "Young", "Allen", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell",
    "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart",
]  # fmt: skip
# (full name, diminutive): the first half are in the matcher's nickname table, the second are not.
NICKNAMES_IN_TABLE = [
    ("Robert", "Bob"), ("William", "Bill"), ("Richard", "Dick"), ("Michael", "Mike"), ("Thomas", "Tom"),
    ("Joseph", "Joe"), ("Charles", "Chuck"), ("Edward", "Ted"), ("Elizabeth", "Betty"), ("Margaret", "Peggy"),
    ("Katherine", "Kate"), ("Anthony", "Tony"), ("Alexander", "Sasha"), ("Henry", "Hank"),
]  # fmt: skip
NICKNAMES_NOT_IN_TABLE = [
    ("Albert", "Al"), ("Walter", "Walt"), ("Eugene", "Gene"), ("Nathaniel", "Nate"), ("Louis", "Lou"),
    ("Douglas", "Doug"), ("Gabriel", "Gabe"), ("Vincent", "Vince"), ("Harold", "Hal"), ("Cornelius", "Neil"),
    ("Clifford", "Cliff"), ("Herbert", "Herb"), ("Montgomery", "Monty"), ("Augustus", "Gus"),
]  # fmt: skip
# (Latin, Cyrillic, alternative Latin transliteration)
RUSSIAN_GIVEN = [
    ("Aleksandr", "Александр", "Alexandr"), ("Sergei", "Сергей", "Sergey"), ("Dmitry", "Дмитрий", "Dmitriy"),
    ("Yevgeny", "Евгений", "Evgeniy"), ("Nikolai", "Николай", "Nikolay"), ("Andrei", "Андрей", "Andrey"),
    ("Mikhail", "Михаил", "Mihail"), ("Alexei", "Алексей", "Aleksey"), ("Yuri", "Юрий", "Yuriy"),
    ("Oleg", "Олег", "Oleg"), ("Igor", "Игорь", "Igor"), ("Vladimir", "Владимир", "Wladimir"),
    ("Tatiana", "Татьяна", "Tatyana"), ("Natalia", "Наталья", "Natalya"), ("Yelena", "Елена", "Elena"),
]  # fmt: skip
RUSSIAN_PATRONYMICS = [
    ("Ivanovich", "Иванович"), ("Petrovich", "Петрович"), ("Sergeyevich", "Сергеевич"),
    ("Nikolayevich", "Николаевич"), ("Viktorovich", "Викторович"), ("Borisovich", "Борисович"),
]  # fmt: skip
RUSSIAN_SURNAMES = [
    ("Ivanov", "Иванов", "Ivanoff"), ("Petrov", "Петров", "Petroff"), ("Smirnov", "Смирнов", "Smirnoff"),
    ("Kuznetsov", "Кузнецов", "Kuznetcov"), ("Sokolov", "Соколов", "Sokoloff"), ("Popov", "Попов", "Popoff"),
    ("Lebedev", "Лебедев", "Lebedew"), ("Kozlov", "Козлов", "Kozloff"), ("Novikov", "Новиков", "Novikoff"),
    ("Morozov", "Морозов", "Morozoff"), ("Volkov", "Волков", "Volkoff"), ("Fyodorov", "Фёдоров", "Fedorov"),
    ("Zaitsev", "Зайцев", "Zaytsev"), ("Shcherbakov", "Щербаков", "Scherbakov"), ("Belov", "Белов", "Beloff"),
    ("Orlov", "Орлов", "Orloff"), ("Pavlov", "Павлов", "Pawlow"), ("Semyonov", "Семёнов", "Semenov"),
]  # fmt: skip
# (Latin spelling variants, Arabic script)
ARABIC_GIVEN = [
    (["Mohammed", "Muhammad", "Mohamed", "Mohammad"], "محمد"), (["Ahmed", "Ahmad"], "أحمد"),
    (["Abdullah", "Abdallah", "Abdulla"], "عبدالله"), (["Hussein", "Husayn", "Hussain"], "حسين"),
    (["Omar", "Umar"], "عمر"), (["Khalid", "Khaled"], "خالد"), (["Youssef", "Yusuf", "Yousef"], "يوسف"),
    (["Ali"], "علي"), (["Hassan", "Hasan"], "حسن"), (["Ibrahim", "Ebrahim"], "إبراهيم"),
    (["Mustafa", "Mostafa"], "مصطفى"), (["Abdulrahman", "Abdul Rahman", "Abd al-Rahman"], "عبد الرحمن"),
    (["Tariq", "Tarek"], "طارق"), (["Saeed", "Said"], "سعيد"), (["Faisal", "Faysal"], "فيصل"),
]  # fmt: skip
ARABIC_FAMILY = [
    (["Al-Rashid", "Al Rashid", "Alrashid"], "الرشيد"), (["Haddad"], "حداد"),
    (["Mansour", "Mansur"], "منصور"),
    (["Nasser", "Nasir"], "ناصر"), (["Saleh", "Salih"], "صالح"), (["Qasim", "Kassem", "Qassem"], "قاسم"),
    (["Hamdan"], "حمدان"), (["Al-Tamimi", "Al Tamimi", "Tamimi"], "التميمي"), (["Jaber", "Jabir"], "جابر"),
    (["Khoury", "Khouri", "Khuri"], "خوري"), (["Al-Masri", "Al Masri", "Elmasry"], "المصري"),
    (["Darwish", "Darwiche"], "درويش"), (["Othman", "Uthman", "Osman"], "عثمان"),
]  # fmt: skip
CHINESE_SURNAMES = [
    ("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
    ("Zhao", "赵"), ("Huang", "黄"), ("Zhou", "周"), ("Wu", "吴"),
]  # fmt: skip
CHINESE_GIVEN = [
    ("Wei", "伟"), ("Fang", "芳"), ("Jianguo", "建国"), ("Xiaoming", "小明"), ("Lei", "磊"), ("Jun", "军"),
    ("Yong", "勇"), ("Jing", "静"), ("Min", "敏"), ("Xiuying", "秀英"), ("Zhiqiang", "志强"),
    ("Haitao", "海涛"),
]  # fmt: skip
# (with diacritics, as often typed without them)
LATIN_DIACRITIC_GIVEN = [
    ("José", "Jose"), ("María", "Maria"), ("Jesús", "Jesus"), ("Ángel", "Angel"), ("Andrés", "Andres"),
    ("Sebastián", "Sebastian"), ("Jürgen", "Juergen"), ("Günther", "Guenther"), ("Mehmet", "Mehmet"),
    ("Ayşe", "Ayse"), ("Ömer", "Oemer"), ("Gökhan", "Gokhan"), ("François", "Francois"), ("Zoë", "Zoe"),
]  # fmt: skip
LATIN_DIACRITIC_SURNAMES = [
    ("García", "Garcia"), ("Martínez", "Martinez"), ("Rodríguez", "Rodriguez"), ("Hernández", "Hernandez"),
    ("López", "Lopez"), ("González", "Gonzalez"), ("Pérez", "Perez"), ("Sánchez", "Sanchez"),
    ("Núñez", "Nunez"), ("Muñoz", "Munoz"), ("Müller", "Mueller"), ("Schröder", "Schroeder"),
    ("Weiß", "Weiss"), ("Şahin", "Sahin"), ("Çelik", "Celik"), ("Öztürk", "Ozturk"),
    ("Yılmaz", "Yilmaz"), ("Aydın", "Aydin"), ("Kılıç", "Kilic"),  # noqa: RUF001 - Turkish dotless i
    ("Lefèvre", "Lefevre"), ("Dupré", "Dupre"),
]  # fmt: skip
GREEK = [
    ("Georgios", "Γεώργιος"), ("Dimitrios", "Δημήτριος"), ("Nikolaos", "Νικόλαος"), ("Ioannis", "Ιωάννης"),
    ("Papadopoulos", "Παπαδόπουλος"), ("Konstantinou", "Κωνσταντίνου"), ("Georgiou", "Γεωργίου"),
    ("Nikolaidis", "Νικολαΐδης"), ("Pappas", "Παππάς"), ("Vlachos", "Βλάχος"),
]  # fmt: skip
HONORIFICS = ["Mr", "Mr.", "Dr.", "Sheikh", "Haji", "Prof.", "General", "Mrs"]

ORG_STEMS = [
    "Almaz", "Nordic", "Sigma", "Crescent", "Golden Eagle", "Baltic", "Orion", "Zenith", "Atlas", "Phoenix",
    "Aurora", "Meridian", "Pinnacle", "Vostok", "Sahara", "Jade Dragon", "Red Sea", "Caspian", "Andes",
    "Evergreen", "Silverline", "Blue Horizon", "Kestrel", "Tigris", "Euphrates", "Polaris", "Granite",
    "Harbor Light", "Sunrise", "Everest", "Lotus", "Falcon", "Cedar", "Oasis", "Nomad", "Pegasus", "Titan",
    "Vega", "Horizon", "Summit", "Delta Star", "Apex", "Onyx", "Sapphire", "Emerald", "Coral", "Borealis",
]  # fmt: skip
ORG_STEMS_CYRILLIC = {
    "Almaz": "Алмаз", "Baltic": "Балтик", "Orion": "Орион", "Vostok": "Восток", "Atlas": "Атлас",
    "Zenith": "Зенит", "Titan": "Титан", "Aurora": "Аврора", "Granite": "Гранит", "Caspian": "Каспий",
}  # fmt: skip
ORG_SECTORS = [
    "Trading", "Shipping", "Energy", "Logistics", "Petroleum", "Industries", "Holdings", "Investments",
    "Mining", "Aviation", "Metals", "Chemicals", "Construction", "Telecom", "Maritime", "Foods",
]  # fmt: skip
# (legal form, equivalent spellings)
LEGAL_FORMS = [
    ("LLC", ["L.L.C.", "Limited Liability Company", "", "LLC"]),
    ("Ltd", ["Limited", "Ltd.", "", "LTD"]),
    ("GmbH", ["G.m.b.H.", "", "GmbH"]),
    ("S.A.", ["SA", "Sociedad Anonima", ""]),
    ("PLC", ["Public Limited Company", "plc", ""]),
    ("Inc.", ["Incorporated", "Inc", ""]),
    ("JSC", ["Joint Stock Company", "AO", ""]),
    ("OOO", ["LLC", "ООО", ""]),  # noqa: RUF001 - the Cyrillic spelling, on purpose
]  # fmt: skip


@dataclass
class Entry:
    schema: str
    names: list[tuple[str, str]]  # (name, kind)
    parts: dict


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["swap", "delete", "replace", "insert"])
    letters = "aeiourstnlmkdh"
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "delete":
        return word[:i] + word[i + 1 :]
    if op == "replace":
        return word[:i] + rng.choice(letters.replace(word[i].lower(), "")) + word[i + 1 :]
    return word[:i] + rng.choice(letters) + word[i:]


def _typo_name(rng: random.Random, name: str) -> str:
    words = name.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long_words:
        return name
    i = rng.choice(long_words)
    words[i] = _typo(rng, words[i])
    return " ".join(words)


# --- persons ---------------------------------------------------------------------------------


def _person(rng: random.Random, culture: str) -> dict:
    """A person's name parts per culture: latin/native forms and spelling variants."""
    if culture == "english":
        full, nick = (
            rng.choice(NICKNAMES_IN_TABLE + NICKNAMES_NOT_IN_TABLE) if rng.random() < 0.5 else (None, None)
        )
        given = full or rng.choice(ENGLISH_GIVEN)
        middle = rng.choice(ENGLISH_GIVEN) if rng.random() < 0.4 else None
        family = rng.choice(ENGLISH_SURNAMES)
        in_table = (full, nick) in NICKNAMES_IN_TABLE
        return {"culture": culture, "given": [given], "middle": middle, "family": [family], "nick": nick,
                "nick_in_table": in_table}  # fmt: skip
    if culture == "russian":
        g, p, s = rng.choice(RUSSIAN_GIVEN), rng.choice(RUSSIAN_PATRONYMICS), rng.choice(RUSSIAN_SURNAMES)
        female = g[0] in {"Tatiana", "Natalia", "Yelena"}
        fam = [s[0] + ("a" if female else ""), s[2] + ("a" if female else "")]
        fam_native = s[1] + ("\u0430" if female else "")  # Cyrillic a: Ivanov -> Ivanova
        middle = p[0].replace("ich", "na") if female else p[0]
        middle_native = p[1].replace("ич", "на") if female else p[1]
        return {"culture": culture, "given": [g[0], g[2]], "given_native": g[1], "middle": middle,
                "middle_native": middle_native, "family": fam, "family_native": fam_native}  # fmt: skip
    if culture == "arabic":
        g, f = rng.choice(ARABIC_GIVEN), rng.choice(ARABIC_FAMILY)
        middle = rng.choice(ARABIC_GIVEN)
        return {"culture": culture, "given": g[0], "given_native": g[1], "middle": middle[0][0],
                "middle_native": middle[1], "family": f[0], "family_native": f[1]}  # fmt: skip
    if culture == "chinese":
        s, g = rng.choice(CHINESE_SURNAMES), rng.choice(CHINESE_GIVEN)
        return {"culture": culture, "given": [g[0]], "given_native": g[1], "middle": None,
                "family": [s[0]], "family_native": s[1]}  # fmt: skip
    if culture == "greek":
        given = rng.choice(GREEK[:4])
        family = rng.choice(GREEK[4:])
        return {"culture": culture, "given": [given[0]], "given_native": given[1], "middle": None,
                "family": [family[0]], "family_native": family[1]}  # fmt: skip
    g, s = rng.choice(LATIN_DIACRITIC_GIVEN), rng.choice(LATIN_DIACRITIC_SURNAMES)
    second = rng.choice(LATIN_DIACRITIC_SURNAMES) if rng.random() < 0.3 else None
    return {"culture": culture, "given": [g[0], g[1]], "middle": None, "family": [s[0], s[1]],
            "family2": second}  # fmt: skip


def _latin(parts: dict, *, variant: int = 0, middle: bool = True) -> str:
    given = parts["given"][min(variant, len(parts["given"]) - 1)]
    family = parts["family"][min(variant, len(parts["family"]) - 1)]
    words = [given]
    if middle and parts.get("middle"):
        words.append(parts["middle"])
    if parts["culture"] == "arabic" and middle:
        words.insert(1, "bin")
    words.append(family)
    if parts.get("family2"):
        words.append(parts["family2"][0] if variant == 0 else parts["family2"][1])
    if parts["culture"] == "chinese":
        words = [family, given]
    return " ".join(words)


def _native(parts: dict, *, middle: bool = True) -> str | None:
    if "given_native" not in parts:
        return None
    if parts["culture"] == "chinese":
        return parts["family_native"] + parts["given_native"]
    words = [parts["given_native"]]
    if middle and parts.get("middle_native"):
        if parts["culture"] == "arabic":
            words.append("بن")
        words.append(parts["middle_native"])
    words.append(parts["family_native"])
    return " ".join(words)


def _person_entry(rng: random.Random, parts: dict) -> Entry:
    names = [(_latin(parts), "primary")]
    native = _native(parts)
    if native and rng.random() < 0.5:
        names.append((native, "alias"))
    return Entry("Person", names, parts)


def _positive_person(rng: random.Random, entry: Entry) -> tuple[str, str]:
    parts = entry.parts
    culture = parts["culture"]
    options = ["typo", "order", "case_punct", "honorific"]
    if parts.get("middle"):
        options.append("missing_part")
    if culture == "english":
        options += ["initial"] + (["nickname"] * 3 if parts.get("nick") else [])
    if culture in {"russian", "arabic", "chinese", "greek"}:
        options += ["script"] * 3
    if culture in {"russian", "arabic"}:
        options += ["spelling"] * 2
    if culture == "latin":
        options += ["diacritics"] * 3
    kind = rng.choice(options)
    base = _latin(parts)
    if kind == "typo":
        return kind, _typo_name(rng, base)
    if kind == "order":
        words = base.split()
        return kind, " ".join(words[-1:] + words[:-1])
    if kind == "case_punct":
        words = base.split()
        return kind, f"{words[-1].upper()}, {' '.join(words[:-1])}"
    if kind == "honorific":
        return kind, f"{rng.choice(HONORIFICS)} {base}"
    if kind == "missing_part":
        return kind, _latin(parts, middle=False)
    if kind == "initial":
        words = base.split()
        return kind, f"{words[0][0]}. {' '.join(words[1:])}"
    if kind == "nickname":
        label = "nickname_in_table" if parts["nick_in_table"] else "nickname_not_in_table"
        return label, base.replace(parts["given"][0], parts["nick"], 1)
    if kind == "script":
        if entry.names[0][0] == base and len(entry.names) == 1:
            return kind, _native(parts, middle=rng.random() < 0.7)
        return kind, _latin(parts, variant=1, middle=rng.random() < 0.7)
    if kind == "spelling":
        if culture == "arabic":
            given = rng.choice(parts["given"])
            family = rng.choice(parts["family"])
            middle = "bin " + parts["middle"] + " " if rng.random() < 0.5 else ""
            return kind, f"{given} {middle}{family}"
        return kind, _latin(parts, variant=1)
    # diacritics: dropped or written out (ue for ü)
    return kind, _latin(parts, variant=1)


def _negative_person(rng: random.Random, entry: Entry, culture_pool) -> tuple[str, str]:
    parts = entry.parts
    other = _person(rng, parts["culture"])
    kind = rng.choice(["shared_surname", "shared_given", "shared_surname", "shared_given", "same_culture"])
    if kind == "shared_surname":
        other["family"] = parts["family"]
        other.pop("family2", None)
        other["family_native"] = parts.get("family_native")
    elif kind == "shared_given":
        other["given"] = parts["given"]
        other["given_native"] = parts.get("given_native")
    mine = {w.lower().rstrip("a") for w in _latin(parts).split()}
    theirs = {w.lower().rstrip("a") for w in _latin(other).split()}
    if mine <= theirs or theirs <= mine or len(mine & theirs) >= 2:
        # The draw made the same name, one contained in the other, or a female/male form of the
        # same family name: not a clear non-match, so not part of the set.
        return "", ""
    if parts["culture"] in {"russian", "arabic", "chinese", "greek"} and rng.random() < 0.3:
        native = _native(other, middle=False)
        if native:
            return f"{kind}_script", native
    return kind, _latin(other, middle=rng.random() < 0.5)


# --- organisations ---------------------------------------------------------------------------


def _org_entry(rng: random.Random) -> Entry:
    stem = rng.choice(ORG_STEMS)
    sector = rng.choice(ORG_SECTORS)
    form, variants = rng.choice(LEGAL_FORMS)
    names = [(f"{stem} {sector} {form}", "primary")]
    if stem in ORG_STEMS_CYRILLIC and form in {"OOO", "JSC"} and rng.random() < 0.5:
        names.append((f"ООО «{ORG_STEMS_CYRILLIC[stem]}»", "alias"))  # noqa: RUF001 - Cyrillic OOO
    return Entry("Organization", names, {"stem": stem, "sector": sector, "form": form, "variants": variants})


def _positive_org(rng: random.Random, entry: Entry) -> tuple[str, str]:
    p = entry.parts
    kind = rng.choice(["legal_form", "legal_form", "typo", "case_punct", "script", "missing_generic"])
    if kind == "script" and p["stem"] in ORG_STEMS_CYRILLIC:
        return kind, f"{ORG_STEMS_CYRILLIC[p['stem']]} {p['sector']} {p['form']}"
    if kind == "typo":
        return kind, _typo_name(rng, f"{p['stem']} {p['sector']} {p['form']}")
    if kind == "case_punct":
        return kind, f"{p['stem'].upper()} {p['sector'].upper()}, {p['form']}".replace(" ", "-", 1)
    if kind == "missing_generic" and p["sector"] in {"Holdings", "Industries", "Investments", "Trading"}:
        return kind, f"{p['stem']} {rng.choice(p['variants'])}".strip()
    return "legal_form", f"{p['stem']} {p['sector']} {rng.choice(p['variants'])}".strip()


def _negative_org(rng: random.Random, entry: Entry) -> tuple[str, str]:
    p = entry.parts
    kind = rng.choice(["same_stem", "same_stem", "same_sector", "similar_stem"])
    form = rng.choice([p["form"], rng.choice(LEGAL_FORMS)[0]])
    if kind == "same_stem":
        sector = rng.choice([s for s in ORG_SECTORS if s != p["sector"]])
        return kind, f"{p['stem']} {sector} {form}"
    if kind == "same_sector":
        stem = rng.choice([s for s in ORG_STEMS if s != p["stem"]])
        return kind, f"{stem} {p['sector']} {form}"
    # a different stem sharing its first letters (Orion / Onyx; Sapphire / Sahara)
    similar = [s for s in ORG_STEMS if s != p["stem"] and s[:1] == p["stem"][:1]] or [
        s for s in ORG_STEMS if s != p["stem"]
    ]
    return kind, f"{rng.choice(similar)} {p['sector']} {form}"


# --- the set ---------------------------------------------------------------------------------

CULTURES = ["english", "russian", "arabic", "chinese", "greek", "latin"]


def generate_pairs(seed: int = 6, *, persons: int = 900, organisations: int = 300) -> list[dict]:
    """Deterministic labelled pairs: about 1.5 positives and 1 negative per entry."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible test set, not a secret
    pairs: list[dict] = []

    def add(entry: Entry, category: str, query: str, label: bool) -> None:
        if not category or not query:
            return
        pairs.append(
            {
                "id": len(pairs) + 1,
                "label": label,
                "category": category,
                "schema": entry.schema,
                "query": query,
                "entry_names": [{"name": n, "kind": k} for n, k in entry.names],
            }
        )

    for index in range(persons):
        entry = _person_entry(rng, _person(rng, CULTURES[index % len(CULTURES)]))
        for _ in range(1 + (rng.random() < 0.5)):
            add(entry, *_positive_person(rng, entry), True)
        add(entry, *_negative_person(rng, entry, CULTURES), False)
    for _ in range(organisations):
        entry = _org_entry(rng)
        for _ in range(1 + (rng.random() < 0.5)):
            add(entry, *_positive_org(rng, entry), True)
        add(entry, *_negative_org(rng, entry), False)
    return pairs


def write_pairs(path: Path, pairs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair, ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as source:
        return [json.loads(line) for line in source if line.strip()]


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Quality:
    threshold: float
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def quality(scored: list[tuple[float, bool]], threshold: float) -> Quality:
    tp = sum(1 for s, label in scored if label and s >= threshold)
    fp = sum(1 for s, label in scored if not label and s >= threshold)
    fn = sum(1 for s, label in scored if label and s < threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(threshold, precision, recall, f1, tp, fp, fn)


def best_threshold(scored: list[tuple[float, bool]]) -> Quality:
    return max((quality(scored, t) for t in range(0, 101)), key=lambda q: (q.f1, q.threshold))


def score_matcher(pairs: list[dict]) -> tuple[list[tuple[float, bool]], float]:
    """Our matcher's score per pair and pairs/s (entry names prepared inside the timing)."""
    from users.screening.matching import CandidateName, score
    from users.screening.normalise import prepare

    start = time.perf_counter()
    results = []
    for pair in pairs:
        schema = pair["schema"]
        names = [CandidateName(prepare(n["name"], schema=schema), n["kind"]) for n in pair["entry_names"]]
        results.append((score(pair["query"], names, schema=schema).score, pair["label"]))
    elapsed = time.perf_counter() - start
    return results, len(pairs) / elapsed if elapsed else 0.0


def score_baseline(pairs: list[dict]) -> tuple[list[tuple[float, bool]], float]:
    """Plain rapidfuzz token_sort_ratio (with its default lower-casing), best over the entry's names."""
    start = time.perf_counter()
    results = [
        (
            max(
                fuzz.token_sort_ratio(pair["query"], n["name"], processor=str.lower)
                for n in pair["entry_names"]
            ),
            pair["label"],
        )
        for pair in pairs
    ]
    elapsed = time.perf_counter() - start
    return results, len(pairs) / elapsed if elapsed else 0.0


def recall_by_category(pairs: list[dict], scored: list[tuple[float, bool]], threshold: float) -> dict:
    """category -> (pairs, share right at the threshold): recall for positives, specificity for negatives."""
    totals: Counter = Counter()
    right: defaultdict = defaultdict(int)
    for pair, (value, label) in zip(pairs, scored, strict=True):
        key = ("+" if label else "-") + pair["category"]
        totals[key] += 1
        right[key] += int((value >= threshold) == label)
    return {key: (totals[key], right[key] / totals[key]) for key in sorted(totals)}
