"""dcc.phone: normalising, validating and masking customer phone numbers."""

from __future__ import annotations

import string
from collections.abc import Iterator

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from dcc.errors import InvalidInput
from dcc.phone import NormalisedPhone, PhoneError, PhoneKind, mask_phone, normalise_phone

# 174 is left out: only 1740[0-5] is a mobile range there, so random suffixes would be invalid.
MOBILE_PREFIXES = [
    *map(str, range(130, 140)),
    *map(str, range(150, 154)),
    *map(str, range(155, 160)),
    "166",
    *map(str, range(170, 174)),
    *map(str, range(175, 179)),
    *map(str, range(180, 190)),
    "191",
    "193",
    *map(str, range(195, 200)),
]
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789+-.()"} | {" ": "\u3000"}


@pytest.fixture(autouse=True, scope="module")
def _english() -> Iterator[None]:
    # The site defaults to zh-hans; assert on the English source strings.
    with translation.override("en"):
        yield


mobiles = st.builds(
    str.__add__, st.sampled_from(MOBILE_PREFIXES), st.text("0123456789", min_size=8, max_size=8)
)
landlines = st.builds(
    lambda area, first, rest: f"0{area}{first}{rest}",
    st.sampled_from(["10", "20", "21"]),
    st.sampled_from("234567"),
    st.text("0123456789", min_size=7, max_size=7),
)


@st.composite
def decorated(draw: st.DrawFn, number: str) -> str:
    """`number` as someone might type or paste it: country prefix, separators, full width."""
    chars = list(draw(st.sampled_from(["", "+86", "0086", "86"])) + number)
    out = [chars[0]]
    for ch in chars[1:]:
        out.append(draw(st.sampled_from(["", "", " ", "-", "."])))
        out.append(ch)
    text = "".join(FULL_WIDTH[c] if c in FULL_WIDTH and draw(st.booleans()) else c for c in out)
    pad = st.sampled_from(["", " ", "\t", "\u3000", "\n"])
    return draw(pad) + text + draw(pad)


def test_mobile_prefixes_are_valid_in_phonenumbers() -> None:
    for prefix in MOBILE_PREFIXES:
        for rest in ("00000000", "12345678", "99999999"):
            parsed = phonenumbers.parse(prefix + rest, "CN")
            assert phonenumbers.is_valid_number(parsed), prefix
            assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "(138) 1234 5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "(+86) 138-1234-5678",
        "008613812345678",
        "0086 138 1234 5678",
        "8613812345678",
        "86-138-1234-5678",
        "１３８１２３４５６７８",
        "＋８６ １３８ １２３４ ５６７８",
        "１３８－１２３４－５６７８",
        "  13812345678\t",
        "\u200e+86 138 1234 5678",
    ],
)
def test_spellings_of_one_mobile_give_the_same_number(raw: str) -> None:
    phone = normalise_phone(raw)
    assert phone == NormalisedPhone("13812345678", PhoneKind.MOBILE)
    assert phone.masked == "138****5678"


@pytest.mark.parametrize(
    ("raw", "number", "masked"),
    [
        ("010-87654321", "01087654321", "010****4321"),
        ("(010) 8765 4321", "01087654321", "010****4321"),
        ("(021) 6123 4567", "02161234567", "021****4567"),
        ("+86 755 1234 5678", "075512345678", "0755****5678"),
        ("0086 (0)755 1234-5678", "075512345678", "0755****5678"),
        ("0591-87654321", "059187654321", "0591****4321"),
        ("０２０－２１２３４５６７", "02021234567", "020****4567"),
    ],
)
def test_landlines_are_accepted_and_flagged(raw: str, number: str, masked: str) -> None:
    phone = normalise_phone(raw)
    assert phone == NormalisedPhone(number, PhoneKind.LANDLINE)
    assert phone.masked == masked
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        ("", "phone_empty", "Enter a phone number"),
        ("   ", "phone_empty", "Enter a phone number"),
        ("--()", "phone_empty", "Enter a phone number"),
        ("138abcd5678", "phone_letters", "letters, but this one has “a”"),
        ("138 1234 5678 转 8", "phone_letters", "“转”"),
        ("138#1234#5678", "phone_characters", "“#”"),
        ("138/1234/5678", "phone_characters", "“/”"),
        ("138+12345678", "phone_characters", "“+” can only come at the start"),
        ("1381234567", "phone_length", "11 digits, but 10 digits were given"),
        ("+86 1381234567", "phone_length", "11 digits, but 10 digits were given"),
        ("138123456789", "phone_length", "11 digits, but 12 digits were given"),
        ("1", "phone_length", "too short: only 1 digit was given"),
        ("1234", "phone_length", "too short: only 4 digits were given"),
        ("021 6123 4567 890", "phone_length", "too long: 14 digits were given"),
        ("+1 415 555 2671", "phone_not_chinese", "Only Chinese (+86) phone numbers"),
        ("+44 20 7946 0958", "phone_not_chinese", "country code +44"),
        ("0044 20 7946 0958", "phone_not_chinese", "country code +44"),
        ("+999 1234 5678", "phone_not_chinese", "Only Chinese (+86) phone numbers"),
        ("87654321", "phone_invalid", "needs its area code"),
        ("12345678901", "phone_invalid", "not a valid Chinese phone number"),
        ("14012345678", "phone_invalid", "not a valid Chinese phone number"),
        ("10086", "phone_invalid", "not a valid Chinese phone number"),
        ("400-812-3456", "phone_service_number", "service number (such as 400 or 800)"),
        ("800 812 3456", "phone_service_number", "not a customer's own number"),
        ("+86 400 812 3456", "phone_service_number", "400 or 800"),
    ],
)
def test_rejections_say_why(raw: str, code: str, says: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalise_phone(raw)
    assert caught.value.code == code
    assert says in caught.value.message
    assert caught.value.field == "mobile"


def test_phone_error_is_an_invalid_input_with_defaults() -> None:
    error = PhoneError("bad")
    assert isinstance(error, InvalidInput)
    assert (error.code, error.field, error.status) == ("invalid_phone", "mobile", 422)
    assert PhoneError("bad", code="x", field="phone").as_dict() == {
        "code": "x",
        "message": "bad",
        "field": "phone",
    }


@pytest.mark.parametrize(
    ("stored", "masked"),
    [
        ("13812345678", "138****5678"),
        ("01087654321", "010****4321"),
        ("075512345678", "0755****5678"),
        ("+1 415 555 2671", "*******2671"),  # not ours: only the last four survive
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_phone(stored: str, masked: str) -> None:
    assert mask_phone(stored) == masked


@given(mobile=mobiles, data=st.data())
def test_any_decoration_of_a_mobile_gives_its_11_digits(mobile: str, data: st.DataObject) -> None:
    raw = data.draw(decorated(mobile))
    assert normalise_phone(raw) == NormalisedPhone(mobile, PhoneKind.MOBILE)


@given(st.one_of(mobiles.flatmap(decorated), landlines.flatmap(decorated)))
def test_normalising_is_idempotent(raw: str) -> None:
    phone = normalise_phone(raw)
    assert normalise_phone(phone.number) == phone


@given(landlines)
def test_landlines_are_flagged(number: str) -> None:
    assert normalise_phone(number) == NormalisedPhone(number, PhoneKind.LANDLINE)


@given(st.text(), st.sampled_from(string.ascii_letters), st.text())
def test_anything_with_an_ascii_letter_is_rejected(before: str, letter: str, after: str) -> None:
    with pytest.raises(PhoneError):
        normalise_phone(before + letter + after)


@given(mobiles)
def test_masking_never_reveals_the_middle_of_a_mobile(mobile: str) -> None:
    masked = normalise_phone(mobile).masked
    assert masked == mobile[:3] + "****" + mobile[7:]
    assert mask_phone(mobile) == masked


@given(mobiles, st.integers(min_value=1, max_value=10))
def test_a_truncated_mobile_is_rejected(mobile: str, keep: int) -> None:
    with pytest.raises(PhoneError):
        normalise_phone(mobile[:keep])


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_the_fast_path_for_plain_mobiles_agrees_with_the_full_check(number):
    """Plain 11-digit numbers (most of an import) skip the parser; the answer is the same."""
    from dcc.phone import _full_check

    try:
        expected = _full_check(number)
    except PhoneError as error:
        with pytest.raises(PhoneError) as caught:
            normalise_phone(number)
        assert caught.value.message == error.message
    else:
        assert normalise_phone(number) == expected
