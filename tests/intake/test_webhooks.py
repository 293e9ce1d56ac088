"""Platform webhooks: signature, JSON and ADF bodies, idempotency on the platform's id, touches,
the error shape, XML bombs, per-channel rate limits, secret rotation and the OpenAPI entry."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import SettingsChange
from dcc.errors import DomainError, InvalidInput, NotPermitted
from intake import adf
from intake.webhooks import RateLimited, check_rate, rotate_webhook_secret, sign
from leads.models import Channel, Customer, Event, Lead
from tests.factories import channel as channel_of
from tests.factories import fresh_mobile, make_lead

JSON = "application/json"
XML = "application/xml"

ADF_SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
  <prospect status="new">
    <id sequence="1" source="Autohome">AH-20240501-000123</id>
    <requestdate>2024-05-01T10:30:00+08:00</requestdate>
    <vehicle interest="buy" status="new">
      <year>2024</year>
      <make>比亚迪</make>
      <model>汉 EV</model>
      <trim>冠军版 605km</trim>
    </vehicle>
    <customer>
      <contact primarycontact="1">
        <name part="first">小明</name>
        <name part="last">王</name>
        <email>xiaoming.wang@example.cn</email>
        <phone type="voice" time="day">021-6288 1234</phone>
        <phone type="cellphone">+86 139 1234 5678</phone>
        <address type="home">
          <street line="1">淮海中路 100 号</street>
          <city>上海</city>
          <country>CN</country>
        </address>
      </contact>
      <comments>想了解落地价，周末方便到店。</comments>
    </customer>
    <vendor>
      <vendorname>上海某某比亚迪 4S 店</vendorname>
    </vendor>
    <provider>
      <name part="full">汽车之家</name>
    </provider>
  </prospect>
</adf>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE adf [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<adf><prospect><id>&lol9;</id><customer><contact>
  <phone type="cellphone">13912345678</phone>
</contact></customer></prospect></adf>
"""


@pytest.fixture(autouse=True)
def fresh_rate_windows():
    """Rate counters live in the cache, which outlives a test's database rollback."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def wired(team) -> tuple[Channel, str]:
    """The dealer's Autohome channel with a webhook secret, and that secret."""
    autohome = channel_of(team.dealer)
    return autohome, rotate_webhook_secret(autohome)


def url(channel: Channel) -> str:
    return f"/api/v1/intake/{channel.dealer.code}/{channel.code}"


def post(
    channel: Channel,
    body: bytes | str | dict,
    *,
    secret: str | None,
    content_type: str = JSON,
    signature: str | None = None,
    client: Client | None = None,
):
    """Post `body` as the platform would, signed with `secret` unless `signature` is given."""
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False)
    raw = body.encode() if isinstance(body, str) else body
    headers = {}
    if signature is not None:
        headers["X-DCC-Signature"] = signature
    elif secret is not None:
        headers["X-DCC-Signature"] = sign(secret, raw)
    # generic() sends the bytes as they are; post() would re-encode them to the charset.
    return (client or Client()).generic(
        "POST", url(channel), raw, content_type=content_type, headers=headers
    )


def enquiry(**fields) -> dict:
    return {"external_id": "AH-1", "mobile": fresh_mobile(), "name": "李雷", **fields}


def kinds(lead_id: int) -> list[str]:
    return list(
        Event.objects.filter(lead_id=lead_id).order_by("seq").values_list("kind", flat=True)
    )


def nothing_written() -> bool:
    return not Lead.objects.exists() and not Customer.objects.exists()


# ---------------------------------------------------------------- signature


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("sha256=" + "0" * 64, id="wrong-hex"),
        pytest.param("sha256=zz", id="not-hex"),
        pytest.param("md5=abc", id="other-scheme"),
        pytest.param("sha256=签名", id="non-ascii"),
    ],
)
def test_missing_or_bad_signature_is_401_and_writes_nothing(wired, signature):
    autohome, _secret = wired
    response = post(autohome, enquiry(), secret=None, signature=signature)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "bad_signature"
    assert nothing_written()


def test_signature_with_the_wrong_secret_is_401(wired):
    autohome, secret = wired
    response = post(autohome, enquiry(), secret=secret + "x")
    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    assert nothing_written()


def test_signature_of_another_body_is_401(wired):
    autohome, secret = wired
    body = json.dumps(enquiry()).encode()
    tampered = body.replace(b"AH-1", b"AH-2")
    response = post(autohome, tampered, secret=None, signature=sign(secret, body))
    assert response.status_code == 401
    assert nothing_written()


def test_another_channels_secret_does_not_open_this_one(team, wired):
    autohome, _secret = wired
    yiche_secret = rotate_webhook_secret(channel_of(team.dealer, "yiche"))
    response = post(autohome, enquiry(), secret=yiche_secret)
    assert response.status_code == 401
    assert nothing_written()


def test_a_channel_without_a_secret_refuses_every_webhook(team):
    bare = channel_of(team.dealer, "yiche")
    assert bare.webhook_secret == ""
    for secret in ("", "anything"):  # an empty key must not be a valid key
        response = post(bare, enquiry(), secret=secret)
        assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    assert nothing_written()


def test_upper_case_hex_is_accepted(wired):
    autohome, secret = wired
    body = json.dumps(enquiry()).encode()
    signature = "SHA256=" + sign(secret, body).removeprefix("sha256=").upper()
    assert post(autohome, body, secret=None, signature=signature).status_code == 201


def test_webhooks_need_no_csrf_token_or_session(wired):
    autohome, secret = wired
    strict = Client(enforce_csrf_checks=True)
    assert post(autohome, enquiry(), secret=secret, client=strict).status_code == 201


# ---------------------------------------------------------------- JSON intake


def test_new_enquiry_is_201_created_and_a_repeat_is_200_duplicate_of_the_same_lead(team, wired):
    autohome, secret = wired
    body = enquiry(name="韩梅梅", car_model="汉 EV", city="上海", note="要试驾")
    first = post(autohome, body, secret=secret)
    assert first.status_code == 201, first.content
    assert first.json()["outcome"] == "created"
    assert set(first.json()) == {"outcome", "lead_id"}  # no customer data goes back
    again = post(autohome, body, secret=secret)
    assert again.status_code == 200
    assert again.json() == {"outcome": "duplicate", "lead_id": first.json()["lead_id"]}

    lead = Lead.objects.select_related("customer").get()
    assert lead.pk == first.json()["lead_id"]
    assert (lead.dealer, lead.channel, lead.external_id) == (team.dealer, autohome, "AH-1")
    assert (lead.customer.name, lead.customer.city, lead.car_model) == ("韩梅梅", "上海", "汉 EV")
    assert lead.created_by is None
    assert lead.owner in (team.dcc_agent, team.dcc_agent_2)  # the dealer's assignment rules
    assert kinds(lead.pk) == ["created"]
    created = Event.objects.get(lead=lead)
    assert (created.actor, created.note) == (None, "要试驾")


def test_the_same_external_id_with_another_number_is_still_a_duplicate(wired):
    autohome, secret = wired
    first = post(autohome, enquiry(), secret=secret)
    again = post(autohome, enquiry(), secret=secret)  # a fresh number, the same platform id
    assert again.json() == {"outcome": "duplicate", "lead_id": first.json()["lead_id"]}
    assert Lead.objects.count() == 1


def test_a_number_with_an_open_lead_is_a_touch_on_it(team, wired):
    autohome, secret = wired
    mobile = fresh_mobile()
    open_lead = make_lead(team.dealer, phone=mobile, channel_code="wechat")
    response = post(autohome, enquiry(mobile=f"+86 {mobile}", note="again"), secret=secret)
    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "touched", "lead_id": open_lead.pk}
    assert Lead.objects.count() == 1
    assert kinds(open_lead.pk) == ["created", "touched"]
    touch = Event.objects.get(lead=open_lead, kind="touched")
    assert (touch.actor, touch.data["channel"], touch.note) == (None, "autohome", "again")


def test_the_platforms_enquiry_time_is_kept(wired):
    autohome, secret = wired
    post(autohome, enquiry(created_at="2024-05-01T10:30:00"), secret=secret)
    lead = Lead.objects.get()
    # Naive times are China time.
    assert lead.created_at.isoformat() == "2024-05-01T02:30:00+00:00"


def test_created_at_defaults_to_now(wired):
    autohome, secret = wired
    before = datetime.now().astimezone()
    post(autohome, enquiry(), secret=secret)
    assert Lead.objects.get().created_at >= before


def test_numeric_ids_and_extra_keys_are_accepted(wired):
    autohome, secret = wired
    body = {"external_id": 987654321, "mobile": 13912340000, "source": "autohome-v2"}
    assert post(autohome, body, secret=secret).status_code == 201
    assert Lead.objects.get().external_id == "987654321"


def test_a_gbk_body_that_says_so_is_read(wired):
    autohome, secret = wired
    body = json.dumps(enquiry(name="张伟"), ensure_ascii=False).encode("gbk")
    response = post(autohome, body, secret=secret, content_type="application/json; charset=GBK")
    assert response.status_code == 201, response.content
    assert Customer.objects.get().name == "张伟"


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"external_id": None}, "external_id", "required"),
        ({"external_id": "   "}, "external_id", "at least 1"),
        ({"external_id": "x" * 101}, "external_id", "at most 100"),
        ({"mobile": None}, "mobile", "required"),
        ({"mobile": ["139"]}, "mobile", "string"),
        ({"name": "名" * 101}, "name", "at most 100"),
        ({"note": "x" * 2001}, "note", "at most 2000"),
        ({"created_at": "yesterday"}, "created_at", "datetime"),
        ({"created_at": "2027-06-01T00:00:00+08:00"}, "created_at", "future"),
        ({"created_at": "2999-01-01T00:00:00+08:00"}, "created_at", "outside the dates"),
    ],
)
def test_missing_or_invalid_field_is_422_naming_it(wired, change, field, says):
    autohome, secret = wired
    body = {key: value for key, value in {**enquiry(), **change}.items() if value is not None}
    response = post(autohome, body, secret=secret)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["field"] == field
    assert says in answer["message"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("mobile", "code", "says"),
    [
        ("", "phone_empty", "Enter a phone number"),
        ("139 1234 567", "phone_length", "11 digits"),
        ("139abc45678", "phone_letters", "letters"),
        ("+1 202 555 0143", "phone_not_chinese", "+86"),
        ("400 810 8888", "phone_service_number", "400"),
    ],
)
def test_bad_phone_is_422_on_mobile_saying_why(wired, mobile, code, says):
    autohome, secret = wired
    response = post(autohome, enquiry(mobile=mobile), secret=secret)
    assert response.status_code == 422
    answer = response.json()
    assert (answer["code"], answer["field"]) == (code, "mobile")
    assert says in answer["message"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"external_id": "AH-1", "mobile": ', JSON, 422, "malformed_json"),
        (b"[1, 2, 3]", JSON, 422, "malformed_json"),
        (b"\xff\xfe\x00garbage", JSON, 422, "malformed_json"),
        (b'{"external_id": "AH-1"}', "application/json; charset=klingon", 422, "malformed_json"),
        (b"external_id=AH-1&mobile=13912345678", "application/x-www-form-urlencoded", 415, None),
        (b"AH-1,13912345678", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_unreadable_bodies_are_refused(wired, body, content_type, status, code):
    autohome, secret = wired
    response = post(autohome, body, secret=secret, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["code"] == (code or "unsupported_media_type")
    assert nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"external_id": ' + b"[" * 1100 + b"]" * 1100 + b"}", id="nested-1100-deep"),
        pytest.param(b"[" * 1100 + b"]" * 1100, id="array-nested-1100-deep"),
    ],
)
def test_json_nested_too_deep_is_422(wired, body):
    autohome, secret = wired
    response = post(autohome, body, secret=secret)
    assert (response.status_code, response.json()["code"]) == (422, "malformed_json")
    assert nothing_written()


def test_an_integer_of_5000_digits_is_422_on_its_field(wired):
    autohome, secret = wired
    digits = "9" * 5000
    body = f'{{"external_id": {digits}, "mobile": "{fresh_mobile()}"}}'.encode()
    response = post(autohome, body, secret=secret)
    assert response.status_code == 422, response.content
    assert (response.json()["field"], response.json()["code"]) == (
        "external_id",
        "validation_error",
    )
    assert nothing_written()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("1e999999", "1e999999"), ("12.50", "12.50"), ("1E5", "1E5"), ("-0", "-0")],
)
def test_a_numeric_external_id_is_kept_as_sent(wired, sent, kept):
    autohome, secret = wired
    body = f'{{"external_id": {sent}, "mobile": "{fresh_mobile()}"}}'.encode()
    assert post(autohome, body, secret=secret).status_code == 201
    assert Lead.objects.get().external_id == kept


@pytest.mark.parametrize(
    "created_at",
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+08:00",
        "1999-12-31T23:59:59",
        "9999-12-31T23:59:59",
    ],
)
def test_an_enquiry_time_outside_the_window_is_422_on_created_at(wired, created_at):
    autohome, secret = wired
    response = post(autohome, enquiry(created_at=created_at), secret=secret)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == "created_at"
    assert "2000-01-01" in response.json()["message"]
    assert nothing_written()


def test_an_adf_request_date_of_year_one_creates_no_lead(wired):
    autohome, secret = wired
    document = ADF_SAMPLE.replace("2024-05-01T10:30:00+08:00", "0001-01-01T00:00:00")
    response = post(autohome, document, secret=secret, content_type=XML)
    assert (response.status_code, response.json()["field"]) == (422, "created_at")
    assert nothing_written()


@pytest.mark.parametrize("field", ["external_id", "mobile", "name", "car_model", "city", "note"])
def test_a_nul_character_in_any_field_is_422_naming_it(wired, field):
    autohome, secret = wired
    response = post(autohome, {**enquiry(), field: "13912345678\x00"}, secret=secret)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert nothing_written()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/intake/D%00/autohome", "/api/v1/intake/{dealer}/auto%00home"],
)
def test_a_nul_character_in_the_url_is_a_clear_4xx(team, wired, path):
    _autohome, secret = wired
    body = json.dumps(enquiry()).encode()
    response = Client().generic(
        "POST",
        path.format(dealer=team.dealer.code),
        body,
        content_type=JSON,
        headers={"X-DCC-Signature": sign(secret, body)},
    )
    assert response.status_code in (404, 422), response.content
    assert response.json()["code"]
    assert nothing_written()


def test_an_oversized_body_is_413_before_anything_else(wired):
    autohome, _secret = wired
    body = enquiry(note="x" * 70_000)
    response = post(autohome, body, secret=None, signature="sha256=00")
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert nothing_written()


# ---------------------------------------------------------------- ADF XML


@pytest.mark.parametrize("content_type", sorted(adf.CONTENT_TYPES))
def test_adf_document_becomes_a_lead(wired, content_type):
    autohome, secret = wired
    response = post(autohome, ADF_SAMPLE, secret=secret, content_type=content_type)
    assert response.status_code == 201, response.content
    lead = Lead.objects.select_related("customer").get(pk=response.json()["lead_id"])
    assert lead.external_id == "AH-20240501-000123"
    assert lead.customer.name == "王小明"  # family name first
    assert lead.customer.phone == "13912345678"  # the cellphone, not the daytime landline
    assert lead.customer.city == "上海"
    assert lead.car_model == "汉 EV"
    assert lead.created_at.isoformat() == "2024-05-01T02:30:00+00:00"
    note = Event.objects.get(lead=lead).note
    assert note == "想了解落地价，周末方便到店。\n2024 比亚迪 汉 EV"

    again = post(autohome, ADF_SAMPLE, secret=secret, content_type=content_type)
    assert again.json() == {"outcome": "duplicate", "lead_id": lead.pk}


def test_adf_in_gb18030_is_read(wired):
    autohome, secret = wired
    body = ADF_SAMPLE.replace('encoding="UTF-8"', 'encoding="GB18030"').encode("gb18030")
    response = post(autohome, body, secret=secret, content_type="text/xml")
    assert response.status_code == 201, response.content
    assert Customer.objects.get().name == "王小明"


def test_billion_laughs_is_422_and_writes_nothing(wired):
    autohome, secret = wired
    response = post(autohome, BILLION_LAUGHS, secret=secret, content_type=XML)
    assert response.status_code == 422
    assert response.json()["code"] == "xml_forbidden"
    assert "entities" in response.json()["message"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("document", "code", "field"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE adf [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<adf><prospect><id>&x;</id></prospect></adf>",
            "xml_forbidden",
            None,
        ),
        ("<adf><prospect><id>1</id></adf>", "malformed_xml", None),
        ("   ", "malformed_xml", None),
        ('<?xml version="1.0" encoding="x-klingon"?><adf/>', "malformed_xml", None),
        ("<lead><id>1</id></lead>", "not_adf", None),
        ("<adf></adf>", "adf_prospect_count", None),
        ("<adf><prospect/><prospect/></adf>", "adf_prospect_count", None),
        (
            '<adf><prospect><customer><contact><phone type="cellphone">13912345678</phone>'
            "</contact></customer></prospect></adf>",
            "validation_error",
            "external_id",
        ),
        (
            '<adf><prospect><id>P-1</id><customer><contact><phone type="fax">02162881234</phone>'
            "</contact></customer></prospect></adf>",
            "validation_error",
            "mobile",
        ),
    ],
)
def test_bad_adf_is_422_with_a_clear_code(wired, document, code, field):
    autohome, secret = wired
    response = post(autohome, document, secret=secret, content_type=XML)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == code
    assert answer.get("field") == field
    assert nothing_written()


@pytest.mark.parametrize("encoding", ["hex", "base64", "zlib", "rot13", "bz2", "uu", "quopri"])
def test_adf_declaring_an_encoding_that_is_not_text_is_422(wired, encoding):
    autohome, secret = wired
    document = ADF_SAMPLE.replace('encoding="UTF-8"', f'encoding="{encoding}"')
    response = post(autohome, document, secret=secret, content_type=XML)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "malformed_xml"
    assert encoding in response.json()["message"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ('<name part="full">欧阳娜娜</name>', "欧阳娜娜"),
        ('<name part="first">娜娜</name><name part="last">欧阳</name>', "欧阳娜娜"),
        ('<name part="first">Xiaoming</name><name part="last">Wang</name>', "Wang Xiaoming"),
        ("<name>  李 雷 </name>", "李 雷"),
        ("", ""),
    ],
)
def test_adf_names_read_family_name_first(names, expected):
    document = f"<adf><prospect><customer><contact>{names}</contact></customer></prospect></adf>"
    assert adf.parse_adf(document.encode()).get("name", "") == expected


@pytest.mark.parametrize(
    ("phones", "expected"),
    [
        ('<phone type="voice">021-62881234</phone><phone type="cellphone">139</phone>', "139"),
        ('<phone type="mobile">138</phone><phone>021</phone>', "138"),
        ('<phone type="fax">021</phone><phone>022</phone>', "022"),
        ('<phone type="pager">021</phone>', None),
    ],
)
def test_adf_prefers_the_mobile_number(phones, expected):
    document = f"<adf><prospect><customer><contact>{phones}</contact></customer></prospect></adf>"
    assert adf.parse_adf(document.encode()).get("mobile") == expected


def test_adf_with_a_namespace_and_the_primary_contact(wired):
    document = (
        '<adf xmlns="urn:example:adf"><prospect><id source="A">A-9</id><customer>'
        '<contact><name part="full">旁人</name><phone type="cellphone">13800000000</phone>'
        '</contact><contact primarycontact="1"><name part="full">本人</name>'
        '<phone type="cellphone">13900000000</phone></contact></customer></prospect></adf>'
    )
    fields = adf.parse_adf(document.encode())
    assert (fields["external_id"], fields["name"], fields["mobile"]) == (
        "A-9",
        "本人",
        "13900000000",
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_adf_parser_answers_any_bytes_with_fields_or_a_422(body):
    try:
        fields = adf.parse_adf(body)
    except DomainError as error:
        assert error.status == 422
    else:
        assert all(isinstance(value, str) and value for value in fields.values())


# ---------------------------------------------------------------- rate limit


def test_more_than_the_channels_rate_per_minute_is_429_with_retry_after(team, wired):
    autohome, secret = wired
    Channel.objects.filter(pk=autohome.pk).update(webhook_rate_per_minute=3)
    autohome.refresh_from_db()
    for _ in range(5):  # unsigned requests do not use up the platform's budget
        assert post(autohome, enquiry(), secret="guess").status_code == 401
    for n in range(3):
        response = post(autohome, enquiry(external_id=f"AH-{n}"), secret=secret)
        assert response.status_code == 201, (n, response.content)
    refused = post(autohome, enquiry(external_id="AH-3"), secret=secret)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Lead.objects.count() == 3
    # The budget is per channel.
    yiche = channel_of(team.dealer, "yiche")
    yiche_secret = rotate_webhook_secret(yiche)
    assert post(yiche, enquiry(external_id="Y-1"), secret=yiche_secret).status_code == 201


def test_the_window_resets_each_minute(wired):
    autohome, _secret = wired
    autohome.webhook_rate_per_minute = 2
    start = 1_800_000_000.0  # a minute boundary
    check_rate(autohome, now=start)
    check_rate(autohome, now=start + 30)
    with pytest.raises(RateLimited) as refused:
        check_rate(autohome, now=start + 45)
    assert (refused.value.status, refused.value.retry_after) == (429, 15)
    check_rate(autohome, now=start + 60)


# ---------------------------------------------------------------- routing


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/intake/NOPE/autohome",
        "/api/v1/intake/{dealer}/tiktok",
        "/api/v1/intake/{dealer}/retired",
    ],
)
def test_unknown_or_retired_dealer_or_channel_is_404(team, wired, path):
    _autohome, secret = wired
    retired = Channel.objects.create(
        dealer=team.dealer, code="retired", name="Retired", group="portal", is_active=False
    )
    rotate_webhook_secret(retired)
    body = json.dumps(enquiry()).encode()
    response = Client().post(
        path.format(dealer=team.dealer.code),
        body,
        content_type=JSON,
        headers={"X-DCC-Signature": sign(secret, body)},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert nothing_written()


def test_the_lead_lands_at_the_dealer_in_the_path_only(team, other_team, wired):
    autohome, secret = wired
    theirs = channel_of(other_team.dealer)
    # Their autohome channel, our secret: refused, although the channel codes are the same.
    assert post(theirs, enquiry(), secret=secret).status_code == 401
    assert post(autohome, enquiry(), secret=secret).status_code == 201
    assert Lead.objects.get().dealer == team.dealer


# ---------------------------------------------------------------- secret rotation


def test_rotating_the_secret_retires_the_old_one_at_once(wired):
    autohome, old = wired
    new = rotate_webhook_secret(autohome)
    assert new != old
    assert len(new) == 64
    assert Channel.objects.get(pk=autohome.pk).webhook_secret == new  # kept as given
    assert post(autohome, enquiry(), secret=old).status_code == 401
    assert post(autohome, enquiry(), secret=new).status_code == 201


def test_a_platform_issued_secret_is_stored_as_given(wired):
    autohome, _old = wired
    given_secret = "platform-issued-secret-0123456789abcdef"
    assert rotate_webhook_secret(autohome, secret=given_secret) == given_secret
    assert post(autohome, enquiry(), secret=given_secret).status_code == 201


@pytest.mark.parametrize("secret", ["short", "x" * 129, "秘密" * 20, "tab\tinside" * 4])
def test_a_weak_or_unprintable_secret_is_refused(wired, secret):
    autohome, old = wired
    with pytest.raises(InvalidInput) as refused:
        rotate_webhook_secret(autohome, secret=secret)
    assert refused.value.field == "webhook_secret"
    assert Channel.objects.get(pk=autohome.pk).webhook_secret == old


def test_rotation_by_a_person_is_checked_and_recorded_without_the_secret(team, wired):
    autohome, _old = wired
    with pytest.raises(NotPermitted):
        rotate_webhook_secret(autohome, by=team.dcc_agent)
    new = rotate_webhook_secret(autohome, by=team.dcc_supervisor)
    change = SettingsChange.objects.get(dealer=team.dealer)
    assert (change.changed_by, change.what, change.subject) == (
        team.dcc_supervisor,
        "webhook_secret_rotated",
        "autohome",
    )
    assert new not in json.dumps(change.detail)


# ---------------------------------------------------------------- OpenAPI


def test_openapi_lists_the_webhook_without_user_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/intake/{dealer_code}/{channel_code}"]["post"]
    assert "security" not in operation
    assert "X-DCC-Signature" in {p["name"] for p in operation["parameters"]}
    content = operation["requestBody"]["content"]
    assert {"application/json", "application/xml", "text/xml", "application/adf+xml"} <= set(
        content
    )
    assert {"external_id", "mobile"} <= set(content["application/json"]["schema"]["required"])
    assert {"200", "201", "401", "404", "422", "429"} <= set(operation["responses"])
