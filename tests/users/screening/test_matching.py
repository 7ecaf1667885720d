"""Scores and explanations of the screening name matcher (issue 6, point 3)."""

from datetime import date

import pytest

from users.screening.matching import (
    ALIAS,
    PRIMARY,
    WEAK_ALIAS,
    CandidateName,
    MatchResult,
    score,
    threshold_for,
)
from users.screening.normalise import ORGANIZATION, PERSON, prepare

HIT = 85  # the SANCTIONS threshold in settings


@pytest.mark.parametrize(
    ("query", "entry"),
    [
        ("John Smith", "John Smith"),
        ("Smith John", "John Smith"),
        ("SMITH, John", "John Smith"),
        ("Jon Smyth", "John Smith"),  # two typos
        ("Bob Smith", "Robert Smith"),  # nickname
        ("Dr. John Smith", "John Smith"),  # honorific
        ("J. Smith", "John Smith"),  # initial
        ("John Smith", "John Michael Smith"),  # missing middle name
        ("Jose Garcia", "José García"),  # diacritics
        ("Vladimir Putin", "Владимир Путин"),  # Cyrillic
        ("Xi Jinping", "习近平"),  # Han characters, syllables joined in pinyin
        ("Mohammed bin Salman", "محمد بن سلمان"),  # Arabic, vowels not written
        ("Abdulrahman Saud", "عبد الرحمن سعود"),  # Arabic article joined
        ("Muhammad Al-Rashid", "Mohamed Al Rashid"),  # spelling variants
        ("Alexandr Fedorov", "Aleksandr Fyodorov"),  # transliteration variants
    ],
)
def test_true_matches_score_as_hits(query, entry):
    result = score(query, [entry])
    assert result.score >= HIT, result.explanation


@pytest.mark.parametrize(
    ("query", "entry"),
    [
        ("John Smith", "John Brown"),  # same first name
        ("John Smith", "Mary Smith"),  # shared surname
        ("Wang Wei", "Zhang Wei"),  # short similar surnames
        ("Nikolai Sokolov", "Dmitry Nikolayevich Sokolov"),  # given name is not a patronymic
        ("Smith", "John Smith"),  # one word is not enough
    ],
)
def test_hard_negatives_stay_below_the_threshold(query, entry):
    result = score(query, [entry], schema=PERSON)
    assert result.score < HIT, result.explanation


@pytest.mark.parametrize(
    ("query", "entry", "hit"),
    [
        ("Acme Trading LLC", "ACME Trading Limited", True),
        ("Acme Trading", "Acme Trading GmbH", True),
        ("Acme Trading GmbH", "Acme Tradng GmbH", True),
        ("Acme Trading LLC", "Acme Shipping LLC", False),
        ("Acme Trading LLC", "Apex Trading LLC", False),
    ],
)
def test_organisations(query, entry, hit):
    result = score(query, [entry], schema=ORGANIZATION)
    assert (result.score >= HIT) is hit, result.explanation


def test_result_names_the_matched_name_and_tokens():
    result = score("Bob Smyth", ["Robert Smith", "Bobby Smith"])
    assert isinstance(result, MatchResult)
    assert result.matched_name == "Robert Smith"
    assert result.kind == PRIMARY
    pairs = {(q, c): sim for q, c, sim in result.matched_tokens}
    assert pairs[("bob", "robert")] == 1.0
    assert 0.85 < pairs[("smyth", "smith")] < 1.0
    assert 'on primary "Robert Smith"' in result.explanation
    assert "bob=robert" in result.explanation
    assert "smyth~smith" in result.explanation


def test_best_name_over_aliases_wins():
    result = score("Sasha Ivanov", ["Aleksandr Petrovich Ivanov", "Sasha Ivanov"])
    assert result.kind == ALIAS
    assert result.matched_name == "Sasha Ivanov"
    assert result.score == 100


def test_weak_aliases_count_less():
    strong = score("The Doctor Ahmed", [CandidateName("The Doctor Ahmed", ALIAS)])
    weak = score("The Doctor Ahmed", [CandidateName("The Doctor Ahmed", WEAK_ALIAS)])
    assert weak.score < strong.score == 100
    assert weak.kind == WEAK_ALIAS
    assert weak.adjustments[0][0] == "weak alias"


def test_unmatched_words_are_explained():
    result = score("John Smith", ["John Brown"])
    assert "query words not found: smith" in result.explanation
    assert "entry words not found: brown" in result.explanation


def test_prepared_names_are_accepted_on_both_sides():
    entry = CandidateName(prepare("Robert Smith", schema=PERSON), PRIMARY)
    assert score(prepare("Bob Smith", schema=PERSON), [entry]).score == 100


def test_no_names_scores_zero():
    result = score("John Smith", [])
    assert result.score == 0
    assert result.explanation == "the entry has no names"


# --- date of birth and country ---------------------------------------------------------------


def test_exact_date_of_birth_raises_the_score():
    base = score("Jhon Smith", ["John Smith"]).score
    result = score("Jhon Smith", ["John Smith"], query_dob="1970-03-04", candidate_dobs=["1970-03-04"])
    assert result.score == min(100, base + 5)
    assert result.adjustments == [("date of birth agrees (1970-03-04)", 5.0)]


def test_year_only_agreement_raises_a_little():
    result = score("Jhon Smith", ["John Smith"], query_dob=date(1970, 3, 4), candidate_dobs=["1970"])
    assert result.adjustments == [("year of birth agrees (1970)", 2.0)]


def test_date_of_birth_disagreement_lowers_the_score():
    base = score("John Smith", ["John Smith"]).score
    far = score("John Smith", ["John Smith"], query_dob="1970-03-04", candidate_dobs=["1985-01-01"])
    near = score("John Smith", ["John Smith"], query_dob="1970-03-04", candidate_dobs=["1971"])
    same_year = score("John Smith", ["John Smith"], query_dob="1970-03-04", candidate_dobs=["1970-05-01"])
    assert far.score == base - 15
    # An exact name still reaches the threshold; a near one with a far date of birth does not.
    assert score("Jhon Smith", ["John Smith"], query_dob="1970", candidate_dobs=["1985"]).score < HIT
    assert near.score == base - 8
    assert same_year.score == base - 5
    assert "date of birth disagrees (1985-01-01)" in far.explanation


def test_the_best_of_several_dates_counts():
    result = score(
        "John Smith", ["John Smith"], query_dob="1970-03-04", candidate_dobs=["1960", "1970-03-04"]
    )
    assert result.adjustments == [("date of birth agrees (1970-03-04)", 5.0)]


def test_missing_dates_change_nothing():
    assert score("John Smith", ["John Smith"], query_dob="1970").adjustments == []
    assert score("John Smith", ["John Smith"], candidate_dobs=["1970"]).adjustments == []


def test_a_malformed_date_is_refused_with_its_value():
    with pytest.raises(ValueError, match="'4 March'"):
        score("John Smith", ["John Smith"], query_dob="4 March", candidate_dobs=["1970"])


def test_country_agreement_and_disagreement():
    base = score("Jhon Smith", ["John Smith"]).score
    agrees = score("Jhon Smith", ["John Smith"], query_country="gb", candidate_countries=["GB", "US"])
    differs = score("Jhon Smith", ["John Smith"], query_country="FR", candidate_countries=["GB"])
    assert agrees.score == base + 2
    assert differs.score == base - 5
    assert agrees.adjustments == [("country agrees (GB)", 2.0)]
    assert "country disagrees (GB) -5" in differs.explanation


def test_different_legal_forms_cost_a_little():
    result = score("Acme Trading LLC", ["Acme Trading PLC"], schema=ORGANIZATION)
    assert result.adjustments == [("legal form differs (llc / jsc)", -3.0)]
    assert result.score == 97


# --- thresholds per source kind --------------------------------------------------------------


def test_thresholds_come_from_settings_per_source_kind(settings):
    settings.SCREENING_THRESHOLDS = {"SANCTIONS": 85, "PEP": 92}
    result = score("Jhon Smith", ["John Smith"])
    assert 85 <= result.score < 92
    assert result.is_hit("SANCTIONS")
    assert result.is_hit("sanctions")
    assert not result.is_hit("PEP")
    assert threshold_for("PEP") == 92


def test_an_unknown_source_kind_is_refused():
    with pytest.raises(ValueError, match="no screening threshold for source kind 'LOTTERY'"):
        threshold_for("LOTTERY")
