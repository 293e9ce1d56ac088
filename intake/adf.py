"""ADF (Auto-lead Data Format), the auto industry's XML for exchanging leads, read into the
fields of a webhook enquiry. Platform XML is untrusted: it is parsed with defusedxml only, so
entity expansion (billion laughs) and external references never reach the parser."""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from django.utils.translation import gettext as _

from dcc.errors import InvalidInput

CONTENT_TYPES = frozenset({"application/xml", "text/xml", "application/adf+xml"})

# Encodings expat reads itself; anything else (GBK, GB18030 from Chinese platforms) is
# decoded here first, because expat refuses multi-byte encodings it does not know.
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "ascii"})
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Phone types in order of preference: a mobile reaches the customer, a fax or pager does not.
_PHONE_RANK = {"cellphone": 0, "mobile": 0, "cell": 0, "voice": 1, "phone": 1, "": 1}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class XmlRefused(InvalidInput):
    """XML that is malformed, or uses entities or external references."""

    code = "malformed_xml"


def parse_adf(body: bytes) -> dict[str, str]:
    """Return the enquiry fields of a one-prospect ADF document (external_id, mobile, name,
    car_model, city, note, created_at); fields the document lacks are left out, so that
    validation names them."""
    root = _parse(body)
    if _local(root.tag) != "adf":
        raise XmlRefused(
            _("This XML is not an ADF document: its root element must be <adf>."),
            code="not_adf",
        )
    prospects = _children(root, "prospect")
    if len(prospects) != 1:
        # One request is one lead, so that the answer can name it; a platform batching
        # prospects must send them one by one.
        raise XmlRefused(
            _("Send exactly one <prospect> per request; this document has %(count)d.")
            % {"count": len(prospects)},
            code="adf_prospect_count",
        )
    prospect = prospects[0]
    customer = _child(prospect, "customer")
    contact = _contact(customer)
    vehicle = _vehicle(prospect)
    model, description = _car(vehicle)
    notes = [_text(_child(customer, "comments"), collapse=False)]
    if description != model:
        notes.append(description)  # the make and year, which car_model leaves out
    fields = {
        "external_id": next((_text(e) for e in _children(prospect, "id") if _text(e)), ""),
        "created_at": _text(_child(prospect, "requestdate")),
        "name": _name(contact),
        "mobile": _phone(contact),
        "city": _text(_child(_child(contact, "address"), "city")),
        "car_model": model,
        "note": "\n".join(n for n in notes if n),
    }
    return {key: value for key, value in fields.items() if value}


def _parse(body: bytes) -> Element:
    try:
        return fromstring(_decoded(body))
    except DefusedXmlException as error:
        raise XmlRefused(
            _("XML entities, DTD entity declarations and external references are not accepted."),
            code="xml_forbidden",
        ) from error
    except (ParseError, ValueError) as error:
        raise XmlRefused(
            _("The body is not well-formed XML: %(reason)s") % {"reason": error}
        ) from error


def _decoded(body: bytes) -> bytes | str:
    """The body as expat can read it: bytes when it knows the declared encoding, else text."""
    declared = _DECLARED_ENCODING.match(body)
    if not declared:
        return body
    name = declared.group(1).decode("ascii")
    try:
        encoding = codecs.lookup(name).name
    except LookupError as error:
        raise XmlRefused(
            _("The XML declares an unknown encoding “%(encoding)s”.") % {"encoding": name}
        ) from error
    if encoding in _EXPAT_ENCODINGS:
        return body
    try:
        # Parsing text makes expat ignore the declaration, which no longer describes it.
        return body.decode(encoding)
    except LookupError as error:  # a codec of bytes to bytes (hex, base64, zlib), not text
        raise XmlRefused(
            _("The XML declares “%(encoding)s”, which is not a text encoding.") % {"encoding": name}
        ) from error
    except UnicodeError as error:
        raise XmlRefused(
            _("The XML is not valid %(encoding)s text.") % {"encoding": name}
        ) from error


def _local(tag: str) -> str:
    """Tag name without a namespace, lower-cased: senders vary on both."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _children(parent: Element | None, name: str) -> list[Element]:
    return [] if parent is None else [e for e in parent if _local(e.tag) == name]


def _child(parent: Element | None, name: str) -> Element | None:
    found = _children(parent, name)
    return found[0] if found else None


def _text(element: Element | None, *, collapse: bool = True) -> str:
    if element is None:
        return ""
    text = "".join(element.itertext()).strip()
    return " ".join(text.split()) if collapse else text


def _contact(customer: Element | None) -> Element | None:
    contacts = _children(customer, "contact")
    primary = [c for c in contacts if c.get("primarycontact", "").strip() == "1"]
    return (primary or contacts or [None])[0]


def _name(contact: Element | None) -> str:
    """The full name if given, else the parts, family name first: dealers read names the
    Chinese way, pinyin included (王小明, Wang Xiaoming)."""
    parts: dict[str, str] = {}
    for element in _children(contact, "name"):
        parts.setdefault((element.get("part") or "full").strip().lower(), _text(element))
    if parts.get("full"):
        return parts["full"]
    ordered = [parts.get("last", ""), parts.get("first", ""), parts.get("middle", "")]
    ordered = [part for part in ordered if part]
    return ("" if _CJK.search("".join(ordered)) else " ").join(ordered)


def _phone(contact: Element | None) -> str:
    ranked = sorted(
        (_PHONE_RANK[kind], index, _text(element))
        for index, element in enumerate(_children(contact, "phone"))
        if (kind := (element.get("type") or "").strip().lower()) in _PHONE_RANK and _text(element)
    )
    return ranked[0][2] if ranked else ""


def _vehicle(prospect: Element) -> Element | None:
    vehicles = _children(prospect, "vehicle")
    wanted = [v for v in vehicles if (v.get("interest") or "buy").strip().lower() == "buy"]
    return (wanted or vehicles or [None])[0]


def _car(vehicle: Element | None) -> tuple[str, str]:
    """(car_model, full description). car_model is the model alone, as dealers write it in
    their assignment rules (which match it exactly); the description adds make and year."""
    make, model, year = (_text(_child(vehicle, tag)) for tag in ("make", "model", "year"))
    description = " ".join(part for part in (year, make, model) if part)
    return (model or make), description
