"""Name normalisation for the screening matcher (issue 6, point 3): one test per normalisation."""

import pytest

from users.screening.normalise import ORGANIZATION, PERSON, nicknames, prepare, skeleton


def words(name, **kwargs):
    return [token.canonical for token in prepare(name, **kwargs).tokens]


def texts(name, **kwargs):
    return [token.text for token in prepare(name, **kwargs).tokens]


def test_case_accents_and_punctuation_are_folded():
    assert texts("JOSÉ  García-Martínez") == ["jose", "garcia", "martinez"]
    assert texts("Smith, John.") == ["smith", "john"]
    assert texts("Şahin Öztürk Weiß") == ["sahin", "ozturk", "weiss"]


def test_apostrophes_join_rather_than_split():
    assert texts("Seán O'Brien") == ["sean", "obrien"]


@pytest.mark.parametrize(
    "name",
    [
        "Mr John Smith",
        "Dr. John Smith",
        "Sheikh John Smith",
        "Prof. John Smith",
        "Haji John Smith",
        "Mrs John Smith",
    ],
)
def test_leading_honorifics_are_removed(name):
    assert words(name, schema=PERSON) == ["john", "smith"]


def test_a_name_that_is_only_a_title_keeps_it():
    assert words("Sheikh", schema=PERSON) == ["sheikh"]


def test_cyrillic_honorific_is_found_after_transliteration():
    assert words("Господин Иван Петров", schema=PERSON)[-2:] == ["ivan", "petrov"]
    assert "gospodin" not in words("Господин Иван Петров", schema=PERSON)


@pytest.mark.parametrize(
    ("name", "org_type"),
    [
        ("Acme Trading LTD", "llc"),
        ("Acme Trading Limited", "llc"),
        ("Acme Trading LLC", "llc"),
        ("Acme Trading GmbH", "llc"),
        ("ООО Acme Trading", "llc"),  # noqa: RUF001 - Cyrillic OOO, on purpose
        ("Acme Trading S.A.", "jsc"),
        ("Acme Trading PLC", "jsc"),
    ],
)
def test_legal_forms_are_removed_and_mapped_to_a_canonical_type(name, org_type):
    prepared = prepare(name, schema=ORGANIZATION)
    assert [t.text for t in prepared.tokens] == ["acme", "trading"]
    assert prepared.org_type == org_type


def test_persons_keep_words_that_look_like_legal_forms():
    assert prepare("Anna Ag", schema=PERSON).org_type is None
    assert texts("Anna Ag", schema=PERSON) == ["anna", "ag"]


def test_token_order_is_canonical_in_the_comparable_form():
    assert prepare("Smith John").comparable == prepare("John Smith").comparable == "john smith"


def test_initials_are_single_letter_tokens():
    tokens = prepare("J. R. Smith").tokens
    assert [t.text for t in tokens] == ["j", "r", "smith"]
    assert [t.is_initial for t in tokens] == [True, True, False]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Владимир Путин", ["vladimir", "putin"]),
        ("Αλέξης Τσίπρας", ["alexis", "tsipras"]),
        ("习近平", ["xi", "jin", "ping"]),
    ],
)
def test_other_scripts_are_transliterated_to_latin(name, expected):
    assert texts(name) == expected


def test_arabic_is_transliterated_and_marked_for_consonant_comparison():
    tokens = prepare("محمد بن سلمان").tokens
    assert [t.text for t in tokens] == ["mhmd", "bn", "slman"]
    assert all(t.abjad for t in tokens)
    assert tokens[0].skeleton == skeleton("mohammed") == skeleton("muhammad") == "mhmd"


def test_the_joined_arabic_article_is_split_off():
    assert texts("عبد الرحمن") == ["bd", "al", "rhmn"]


@pytest.mark.parametrize(("nick", "full"), [("Bob", "robert"), ("Bill", "william"), ("Sasha", "alexander")])
def test_nicknames_resolve_to_their_canonical_name(nick, full):
    assert words(f"{nick} Smith", schema=PERSON) == [full, "smith"]
    assert texts(f"{nick} Smith", schema=PERSON)[0] == nick.lower()


def test_nicknames_are_not_applied_to_organisations():
    assert words("Bob Trading LLC", schema=ORGANIZATION) == ["bob", "trading"]


def test_the_nickname_table_is_read_from_its_data_file():
    table = nicknames()
    assert table["bob"] == "robert"
    assert table["robert"] == "robert"
    assert len(table) > 150


def test_particles_and_patronymics_weigh_less():
    tokens = {t.text: t.weight for t in prepare("Ali bin Vladimirovich Rashid").tokens}
    assert tokens["bin"] < tokens["ali"] < tokens["rashid"]
    assert tokens["vladimirovich"] < tokens["rashid"]


def test_an_unknown_schema_is_refused():
    with pytest.raises(ValueError, match="schema must be one of"):
        prepare("John Smith", schema="Ship")


def test_empty_names_prepare_to_nothing():
    assert not prepare("")
    assert not prepare("  -- ")


def test_vessel_names_are_folded_only():
    prepared = prepare("Bob Sheikh Ltd", schema="Vessel")
    assert words("Bob Sheikh Ltd", schema="Vessel") == ["bob", "sheikh", "ltd"]
    assert prepared.org_type is None
