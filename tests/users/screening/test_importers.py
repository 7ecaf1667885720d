"""Each watchlist parser on a small file written in its exact public format (issue 6, point 2)."""

import io
from pathlib import Path

import pytest

from users.screening.importers import FORMATS, ListFormatError
from users.screening.importers.base import country_code, partial_date

DATA = Path(__file__).resolve().parents[2] / "data" / "screening"
FILES = {
    "ofac_xml": ["sdn.xml"],
    "ofac_csv": ["sdn.csv", "add.csv", "alt.csv"],
    "eu_xml": ["eu_fsf.xml"],
    "un_xml": ["un_consolidated.xml"],
    "uk_csv": ["ConList.csv"],
    "ftm_json": ["entities.ftm.json"],
    "os_csv": ["targets.simple.csv"],
}


def parse(fmt: str) -> dict[str, dict]:
    handles = [(DATA / name).open("rb") for name in FILES[fmt]]
    try:
        return {rec["external_id"]: rec for rec in FORMATS[fmt].parse(*handles)}
    finally:
        for handle in handles:
            handle.close()


def aliases(rec) -> set[tuple[str, str]]:
    return {(alias["name"], alias["strength"]) for alias in rec["aliases"]}


@pytest.mark.parametrize("fmt", ["ofac_xml", "ofac_csv"])
def test_ofac_both_formats_give_the_same_people(fmt):
    records = parse(fmt)
    assert set(records) == {"36", "2674", "15037"}
    abbas = records["2674"]
    assert abbas["schema"] == "PERSON"
    assert abbas["name"] == "Abu ABBAS"
    assert aliases(abbas) == {("Muhammad ZAYDAN", "strong"), ("ABU KHALED", "weak")}
    assert abbas["birth_dates"] == ["1948-12-10", "1950"]
    assert abbas["birth_places"] == ["Safed, Palestine"]
    assert abbas["nationalities"] == ["IQ"]
    assert abbas["identifiers"] == [{"type": "Passport", "value": "A1234567", "country": "IQ"}]
    assert abbas["programmes"] == ["SDT", "SDGT"]
    airline = records["36"]
    assert (airline["schema"], airline["countries"], airline["programmes"]) == (
        "ORGANISATION",
        ["CU"],
        ["CUBA"],
    )
    assert aliases(airline) == {("AERO-CARIBBEAN", "strong")}
    vessel = records["15037"]
    assert vessel["schema"] == "VESSEL"
    assert vessel["identifiers"][0]["value"] == "IMO 9187629"


def test_eu_consolidated_xml():
    records = parse("eu_xml")
    assert set(records) == {"13", "5933", "7001"}
    mugabe = records["13"]
    assert mugabe["schema"] == "PERSON"
    assert mugabe["name"] == "Robert Gabriel Mugabe"
    assert aliases(mugabe) == {("Bob Mugabe", "weak")}
    assert mugabe["birth_dates"] == ["1924-02-21"]
    assert mugabe["birth_places"] == ["Kutama, ZIMBABWE"]
    assert mugabe["nationalities"] == ["ZW"]
    assert mugabe["identifiers"] == [{"type": "passport", "value": "AD001095", "country": "ZW"}]
    assert mugabe["programmes"] == ["ZWE"]
    assert mugabe["listed_on"] == "2011-02-16"
    bank = records["5933"]
    assert bank["schema"] == "ORGANISATION"
    assert aliases(bank) == {("ПАО Сбербанк", "strong")}
    assert bank["countries"] == ["RU"]
    assert bank["birth_dates"] == []  # an empty circa birthdate element says nothing
    assert bank["listed_on"] == "2014-07-30"  # designationDate wins over the regulation's date
    petrov = records["7001"]
    assert petrov["name"] == "Ivan Petrov"  # no wholeName: built from its parts
    assert petrov["birth_dates"] == ["1970-05"]  # a partial date stays partial
    assert petrov["nationalities"] == ["RU"]  # from the description when the code is blank


def test_un_consolidated_xml():
    records = parse("un_xml")
    assert set(records) == {"6908555", "110404", "110010"}
    ri = records["6908555"]
    assert ri["schema"] == "PERSON"
    assert ri["name"] == "RI WON HO"
    assert aliases(ri) == {("RI WON-HO", "strong"), ("WON HO", "weak"), ("리원호", "strong")}
    assert ri["birth_dates"] == ["1964-07-17"]
    assert ri["nationalities"] == ["KP"]
    assert ri["countries"] == ["SY"]
    assert {"type": "Passport", "value": "381310014", "country": "KP"} in ri["identifiers"]
    assert ri["programmes"] == ["DPRK"]
    assert ri["listed_on"] == "2016-11-30"
    assert records["110404"]["birth_dates"] == ["1962", "1963"]  # BETWEEN: both years
    komid = records["110010"]
    assert komid["schema"] == "ORGANISATION"
    assert aliases(komid) == {("CHANGGWANG SINYONG CORPORATION", "strong"), ("KOMID", "weak")}
    assert komid["countries"] == ["KP"]


def test_uk_consolidated_csv_groups_rows_by_group_id():
    records = parse("uk_csv")
    assert set(records) == {"13017", "14195", "14200"}
    haqqani = records["13017"]
    assert haqqani["schema"] == "PERSON"
    assert haqqani["name"] == "ABDUL AZIZ HAQQANI"
    assert aliases(haqqani) == {("AZIZ HAQQANI", "strong"), ("UZAIR", "weak"), ("عبد العزیز حقانی", "strong")}
    assert haqqani["birth_dates"] == ["1980"]  # 00/00/1980
    assert haqqani["nationalities"] == ["AF"]  # "Afghan"
    assert haqqani["listed_on"] == "2013-12-19"
    ivanov = records["14195"]
    assert ivanov["birth_dates"] == ["1953-01-31"]
    assert ivanov["nationalities"] == ["RU", "UA"]  # "(1) Russian (2) Ukrainian"
    assert ivanov["identifiers"] == [{"type": "Passport", "value": "753000001", "country": ""}]
    bank = records["14200"]
    assert (bank["schema"], bank["name"], bank["countries"]) == ("ORGANISATION", "SBERBANK OF RUSSIA", ["RU"])
    assert aliases(bank) == {("SBERBANK", "strong")}


def test_opensanctions_ftm_json_lines_skip_non_target_schemata():
    records = parse("ftm_json")
    assert set(records) == {
        "NK-2DDaRfaLz4tx7D4w3Xzngb",
        "NK-aCx7tXzmEdDt2kcbWy9fJt",
        "imo-9187629",
        "Q-plane-1",
    }
    putin = records["NK-2DDaRfaLz4tx7D4w3Xzngb"]
    assert putin["schema"] == "PERSON"
    assert putin["name"] == "Vladimir Vladimirovich Putin"
    assert aliases(putin) == {
        ("Владимир Владимирович Путин", "strong"),
        ("Vladimir Putin", "strong"),
        ("VVP", "weak"),
    }
    assert putin["birth_dates"] == ["1952-10-07"]
    assert putin["nationalities"] == ["RU"]
    assert putin["identifiers"] == [{"type": "Passport", "value": "100000001", "country": ""}]
    assert putin["programmes"] == ["role.pep", "sanction"]
    assert putin["listed_on"] == "2022-02-25"
    assert records["NK-aCx7tXzmEdDt2kcbWy9fJt"]["schema"] == "ORGANISATION"
    assert records["imo-9187629"]["schema"] == "VESSEL"
    assert records["imo-9187629"]["countries"] == ["MT"]  # the flag
    assert records["Q-plane-1"]["schema"] == "AIRCRAFT"


def test_opensanctions_simple_csv():
    records = parse("os_csv")
    assert set(records) == {"NK-2DDaRfaLz4tx7D4w3Xzngb", "NK-aCx7tXzmEdDt2kcbWy9fJt", "Q-pep-77"}
    putin = records["NK-2DDaRfaLz4tx7D4w3Xzngb"]
    assert aliases(putin) == {("Владимир Владимирович Путин", "strong"), ("Vladimir Putin", "strong")}
    assert putin["programmes"] == ["Russia - EO14024 - Blocking Property", "UK Russia Regime"]
    assert putin["identifiers"] == [{"type": "", "value": "100000001", "country": ""}]
    wagner = records["NK-aCx7tXzmEdDt2kcbWy9fJt"]
    assert (wagner["schema"], wagner["countries"], wagner["nationalities"]) == (
        "ORGANISATION",
        ["RU", "SY"],
        [],
    )
    pep = records["Q-pep-77"]
    assert (pep["birth_dates"], pep["nationalities"], pep["listed_on"]) == (
        ["1970-05"],
        ["BR", "PT"],
        "2020-01-01",
    )


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_every_record_keeps_its_raw_form(fmt):
    for rec in parse(fmt).values():
        assert rec["raw"], rec["external_id"]


@pytest.mark.parametrize(
    ("fmt", "content", "problem"),
    [
        ("ofac_xml", b"<sdnList><sdnEntry><uid>1</uid>", "not well formed"),
        ("ofac_xml", b'<?xml version="1.0"?><export></export>', "root element is <sdnList>"),
        ("eu_xml", b"", "not well formed"),
        (
            "un_xml",
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><CONSOLIDATED_LIST>&a;</CONSOLIDATED_LIST>',
            "refused",
        ),
        ("ofac_csv", b"36,AEROCARIBBEAN\n", "expected 12 columns"),
        ("uk_csv", b"Name 6,Name 1\nX,Y\n", "Last Updated"),
        ("uk_csv", b"Last Updated,01/01/2026\nName,Other\nX,Y\n", "lacks the columns"),
        ("ftm_json", b'{"id": "x", "schema": "Person"}\nnot json\n', "Line 2 is not JSON"),
        ("ftm_json", b'{"name": "no id"}\n', "not a FollowTheMoney entity"),
        ("os_csv", b"id,name\n1,X\n", "lacks the columns"),
        ("os_csv", b"\xff\xfe\x00bad", "decod"),
    ],
)
def test_bad_files_raise_a_clear_format_error(fmt, content, problem):
    with pytest.raises((ListFormatError, UnicodeDecodeError)) as caught:
        list(FORMATS[fmt].parse(io.BytesIO(content)))
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-05-01", "1970-05-01"),
        ("1970-05", "1970-05"),
        ("1970", "1970"),
        ("01 May 1970", "1970-05-01"),
        ("May 1970", "1970-05"),
        ("circa 1970", "1970"),
        ("1968 to 1970", "1968"),
        ("00/05/1970", "1970-05"),
        ("00/00/1970", "1970"),
        ("31/01/1953", "1953-01-31"),
        ("2022-02-25T12:00:00", "2022-02-25"),
        ("unknown", ""),
    ],
)
def test_partial_dates(text, expected):
    assert partial_date(text) == expected


@pytest.mark.parametrize(
    ("text", "code"), [("Iraq", "IQ"), ("IRN", "IR"), ("ru", "RU"), ("Afghan", "AF"), ("Atlantis", "")]
)
def test_country_codes(text, code):
    assert country_code(text) == code
