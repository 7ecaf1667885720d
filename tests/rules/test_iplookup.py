"""IP address -> country (rules.iplookup) and `manage.py load_ip_countries`."""

import gzip
import io

import pytest
from django.core.management import CommandError, call_command

from rules.iplookup import address_key, country_of
from rules.models import IpCountryRange


def add_range(first: str, last: str, country: str) -> None:
    IpCountryRange.objects.create(start=address_key(first), end=address_key(last), country=country)


# --- keys ----------------------------------------------------------------------------------------


def test_ipv4_is_keyed_as_ipv4_mapped_ipv6():
    assert address_key("81.2.69.142") == "00000000000000000000ffff5102458e"
    assert address_key("::ffff:81.2.69.142") == address_key("81.2.69.142")
    assert address_key(" 0.0.0.0 ") == "00000000000000000000ffff00000000"


def test_ipv6_and_decimal_addresses():
    assert address_key("2001:db8::1") == "20010db8000000000000000000000001"
    assert address_key("2001:DB8:0:0::1") == address_key("2001:db8::1")
    assert address_key(16777216) == address_key("1.0.0.0")  # IP2Location's decimal IPv4
    assert address_key(2**32) == "00000000000000000000000100000000"  # above IPv4: IPv6


@pytest.mark.parametrize("bad", ["", "999.1.1.1", "example.com", "1.2.3", "2001:db8::g"])
def test_not_an_address(bad):
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        address_key(bad)


def test_text_order_of_keys_is_numeric_order():
    addresses = ["9.255.255.255", "10.0.0.0", "100.0.0.0", "255.255.255.255", "::1", "2001:db8::", "fe80::1"]
    keys = [address_key(address) for address in addresses]
    assert sorted(keys) == sorted(keys, key=lambda key: int(key, 16))
    assert address_key("9.255.255.255") < address_key("10.0.0.0") < address_key("100.0.0.0")


# --- lookups -------------------------------------------------------------------------------------


@pytest.fixture
def ranges(db):
    add_range("1.0.0.0", "1.0.0.255", "AU")
    add_range("1.0.4.0", "1.0.7.255", "AU")
    add_range("81.2.69.0", "81.2.69.255", "GB")
    add_range("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "DE")


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("81.2.69.0", "GB"),  # the start is in
        ("81.2.69.142", "GB"),
        ("81.2.69.255", "GB"),  # the end is in
        ("81.2.70.0", None),  # just after the end: in no range
        ("81.2.68.255", None),  # just before the start
        ("1.0.1.0", None),  # between two ranges of the same country
        ("1.0.5.9", "AU"),
        ("0.255.255.255", None),  # before every range
        ("2001:db8::1", "DE"),
        ("2001:db9::", None),
        ("::ffff:81.2.69.1", "GB"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_country_of(ranges, address, country):
    assert country_of(address) == country


def test_a_lookup_is_one_query(ranges, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert country_of("81.2.69.142") == "GB"
    with django_assert_num_queries(0):
        assert country_of("garbage") is None


# --- load_ip_countries ------------------------------------------------------------------------------

DBIP = """1.0.0.0,1.0.0.255,AU
1.0.1.0,1.0.3.255,CN
1.0.4.0,1.0.7.255,ZZ
81.2.69.0,81.2.69.255,gb
2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,DE
"""


def load(path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("load_ip_countries", str(path), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def rows():
    return list(IpCountryRange.objects.order_by("start").values_list("start", "end", "country"))


@pytest.mark.django_db
def test_load_replaces_the_table_and_is_idempotent(tmp_path):
    add_range("9.9.9.0", "9.9.9.255", "US")  # not in the file: gone after the load
    path = tmp_path / "dbip.csv"
    path.write_text(DBIP)
    out, err = load(path, batch_size=2)
    assert out.strip() == "Loaded 4 IP ranges (replacing 1); skipped 1 unassigned and 0 invalid rows."
    assert err == ""
    first = rows()
    assert [country for *_, country in first] == ["AU", "CN", "GB", "DE"]
    assert first[2] == (address_key("81.2.69.0"), address_key("81.2.69.255"), "GB")
    assert country_of("81.2.69.1") == "GB"
    assert country_of("9.9.9.9") is None
    out, _ = load(path)
    assert "Loaded 4 IP ranges (replacing 4)" in out
    assert rows() == first


@pytest.mark.django_db
def test_load_skips_a_header_and_reports_bad_rows(tmp_path):
    path = tmp_path / "ranges.csv"
    path.write_text(
        "start,end,country\n"
        "1.0.0.0,1.0.0.255,AU\n"
        "1.0.1.0,1.0.0.0,AU\n"  # start after end
        "1.0.2.0,2001:db8::,AU\n"  # mixed versions
        "1.0.3.0,1.0.3.255,Australia\n"  # not an alpha-2 code
        "banana,1.0.4.255,AU\n"
        "1.0.5.0,1.0.5.255\n"
        "\n"
        "1.0.6.0,1.0.6.255,-\n"
    )
    out, err = load(path)
    assert "Loaded 1 IP ranges (replacing 0); skipped 1 unassigned and 5 invalid rows." in out
    assert "line 3: start is after end; skipped" in err
    assert "line 4: start and end are not of the same IP version; skipped" in err
    assert "line 6:" in err
    assert "line 1" not in err
    assert rows() == [(address_key("1.0.0.0"), address_key("1.0.0.255"), "AU")]


@pytest.mark.django_db
def test_load_reads_ip2location_decimal_rows_and_gzip(tmp_path):
    path = tmp_path / "IP2LOCATION-LITE-DB1.CSV.gz"
    with gzip.open(path, "wt") as file:
        file.write('"16777216","16777471","AU","Australia"\n"0","16777215","-","-"\n')
    out, _ = load(path)
    assert "Loaded 1 IP ranges" in out
    assert "skipped 1 unassigned" in out
    assert country_of("1.0.0.200") == "AU"


@pytest.mark.django_db
def test_a_file_without_usable_rows_leaves_the_table_alone(tmp_path):
    add_range("9.9.9.0", "9.9.9.255", "US")
    path = tmp_path / "empty.csv"
    path.write_text("start,end,country\n1.0.0.0,1.0.0.255,ZZ\n")
    with pytest.raises(CommandError, match="No usable range"):
        load(path)
    assert country_of("9.9.9.9") == "US"
    with pytest.raises(CommandError, match="Cannot read"):
        load(tmp_path / "missing.csv")
    assert country_of("9.9.9.9") == "US"
