"""Read what matters for privacy from an XMP packet: people's names, place, camera.

Photo managers write the names of the people they recognised into XMP: digiKam,
Lightroom, Picasa, Apple Photos and Windows Photo Gallery each in their own
schema. Those names are exactly what must not be published with a school photo,
so ``photoguard inspect`` shows them and the manifest records them as removed.

XMP is XML from the file, i.e. attacker-controlled: it is parsed with defusedxml
(no entity expansion, no DTD-declared entities, no external references) and
refused beyond :data:`MAX_XMP_BYTES`. A packet that cannot be parsed is reported
as a warning, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_XMP_BYTES = 8 * 2**20

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_MWG_REGIONS = "http://www.metadataworkinggroup.com/schemas/regions/"
_MS_PHOTO = "http://ns.microsoft.com/photo/1.0/"
_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_LIGHTROOM = "http://ns.adobe.com/lightroom/1.0/"
_DIGIKAM = "http://www.digikam.org/ns/1.0/"
_MEDIAPRO = "http://ns.iview-multimedia.com/mediapro/1.0/"
_TIFF = "http://ns.adobe.com/tiff/1.0/"
_EXIF = "http://ns.adobe.com/exif/1.0/"
_EXIF_EX = "http://cipa.jp/exif/1.0/"
_AUX = "http://ns.adobe.com/exif/1.0/aux/"
_XMP_NOTE = "http://ns.adobe.com/xmp/note/"

#: Properties whose every value is a person's name.
_NAME_PROPERTIES = frozenset(
    {
        (_MWG_REGIONS, "Name"),
        (_IPTC_EXT, "PersonInImage"),
        (_IPTC_EXT, "PersonName"),
        (_MEDIAPRO, "People"),
    }
)
#: Hierarchical keyword properties; only paths under a "people" root are names.
_HIERARCHY_PROPERTIES = frozenset(
    {
        (_LIGHTROOM, "hierarchicalSubject"),
        (_DIGIKAM, "TagsList"),
        (_MS_PHOTO, "LastKeywordXMP"),
    }
)
_PEOPLE_ROOTS = frozenset({"people", "person", "persons", "personen", "personnes", "faces"})
_NOT_NAMES = frozenset({"unknown", "unconfirmed", "ignored"})
_SERIAL_PROPERTIES = {
    (_AUX, "SerialNumber"): "XMP aux:SerialNumber",
    (_AUX, "LensSerialNumber"): "XMP aux:LensSerialNumber",
    (_EXIF_EX, "BodySerialNumber"): "XMP exifEX:BodySerialNumber",
    (_EXIF_EX, "LensSerialNumber"): "XMP exifEX:LensSerialNumber",
}
_DATE_PROPERTIES = (
    (_EXIF, "DateTimeOriginal"),
    ("http://ns.adobe.com/photoshop/1.0/", "DateCreated"),
    ("http://ns.adobe.com/xap/1.0/", "CreateDate"),
)


@dataclass
class XmpFacts:
    """What one or more XMP packets say, as far as photoguard cares."""

    person_names: list[str] = field(default_factory=list)
    orientation: int | None = None
    gps: tuple[float, float] | None = None
    has_gps: bool = False
    make: str | None = None
    model: str | None = None
    serial_numbers: dict[str, str] = field(default_factory=dict)
    datetime_original: str | None = None
    extended_guid: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_xmp(packet: bytes, facts: XmpFacts | None = None) -> XmpFacts:
    """Parse one packet and add what it says to ``facts`` (a new one if None)."""
    facts = facts or XmpFacts()
    if len(packet) > MAX_XMP_BYTES:
        facts.warnings.append(f"XMP packet of {len(packet):,} bytes not read (too large)")
        return facts
    text = packet.strip(b"\x00 \t\r\n")
    try:
        root = fromstring(text)
    except DefusedXmlException as exc:
        facts.warnings.append(f"XMP refused: {type(exc).__name__} (hostile XML constructs)")
        return facts
    except (ParseError, ValueError, UnicodeError) as exc:
        facts.warnings.append(f"XMP is not well-formed XML ({_short(exc)})")
        _scan_unparsable(text, facts)
        return facts
    _collect(root, facts)
    return facts


def _collect(root: Element, facts: XmpFacts) -> None:
    for element in root.iter():
        for qname, value in element.attrib.items():
            _consider(_split(qname), [value], facts)
        _consider(_split(element.tag), _element_values(element), facts)


def _consider(prop: tuple[str, str], values: list[str], facts: XmpFacts) -> None:
    values = [v.strip() for v in values if v and v.strip()]
    if not values:
        return
    if prop in _NAME_PROPERTIES or _is_microsoft_person(prop):
        _add_names(facts, values)
    elif prop in _HIERARCHY_PROPERTIES:
        _add_names(facts, [name for v in values if (name := _person_from_path(v))])
    elif prop == (_TIFF, "Orientation"):
        facts.orientation = _int_or_none(values[0]) or facts.orientation
    elif prop == (_TIFF, "Make"):
        facts.make = facts.make or values[0]
    elif prop == (_TIFF, "Model"):
        facts.model = facts.model or values[0]
    elif prop in _SERIAL_PROPERTIES:
        facts.serial_numbers.setdefault(_SERIAL_PROPERTIES[prop], values[0])
    elif prop in _DATE_PROPERTIES:
        facts.datetime_original = facts.datetime_original or values[0]
    elif prop == (_XMP_NOTE, "HasExtendedXMP"):
        facts.extended_guid = values[0]
    elif prop[0] == _EXIF and prop[1].startswith("GPS"):
        facts.has_gps = True
        if prop[1] in ("GPSLatitude", "GPSLongitude"):
            _set_gps_coordinate(facts, prop[1], values[0])


def _element_values(element: Element) -> list[str]:
    """Text of a simple property, or of each ``rdf:li`` of a Bag/Seq/Alt."""
    items = [li for container in element for li in container if li.tag == f"{{{RDF}}}li"]
    if items:
        return [li.text or "" for li in items if len(li) == 0]
    if len(element) == 0:
        return [element.text or ""]
    return []


def _is_microsoft_person(prop: tuple[str, str]) -> bool:
    """Windows Photo Gallery regions: ``PersonDisplayName`` (MPReg/MPRI prefixes vary)."""
    return prop[1] == "PersonDisplayName" and prop[0].startswith("http://ns.microsoft.com/photo/")


def _person_from_path(path: str) -> str | None:
    """``People|Jane Smith`` / ``People/Class 3/Jane Smith`` -> ``Jane Smith``."""
    parts = [p.strip() for p in re.split(r"[|/]", path) if p.strip()]
    if len(parts) < 2 or parts[0].lower() not in _PEOPLE_ROOTS:
        return None
    leaf = parts[-1]
    return None if leaf.lower() in _NOT_NAMES else leaf


def _add_names(facts: XmpFacts, names: list[str]) -> None:
    for name in names:
        if name not in facts.person_names and len(facts.person_names) < 1000:
            facts.person_names.append(name[:200])


_COORDINATE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)(?:\s*,\s*(\d+(?:\.\d+)?))?(?:\s*,\s*(\d+(?:\.\d+)?))?\s*([NSEWnsew])\s*$"
)


def _set_gps_coordinate(facts: XmpFacts, prop: str, value: str) -> None:
    """XMP GPS is ``DDD,MM,SSk`` or ``DDD,MM.mmk`` (k = N/S/E/W)."""
    match = _COORDINATE.match(value)
    if not match:
        return
    degrees, minutes, seconds, ref = match.groups()
    number = float(degrees) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
    if ref.upper() in "SW":
        number = -number
    lat, lon = facts.gps if facts.gps else (None, None)
    if prop == "GPSLatitude":
        lat = number
    else:
        lon = number
    facts.gps = (lat, lon)  # type: ignore[assignment]


def finish(facts: XmpFacts) -> XmpFacts:
    """Drop a half or out-of-range GPS position (kept as ``has_gps``)."""
    if facts.gps is not None:
        lat, lon = facts.gps
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            facts.gps = None
    return facts


_NAME_ATTRIBUTES = re.compile(
    rb"""(?:mwg-rs:Name|PersonDisplayName|Iptc4xmpExt:PersonInImage)\s*=\s*["']([^"'<>]{1,200})["']"""
)


def _scan_unparsable(text: bytes, facts: XmpFacts) -> None:
    """A broken packet may still be read by lenient tools: look for names literally."""
    names = [m.decode("utf-8", "replace") for m in _NAME_ATTRIBUTES.findall(text[:MAX_XMP_BYTES])]
    _add_names(facts, names)


def _split(qname: str) -> tuple[str, str]:
    if qname.startswith("{"):
        namespace, _, local = qname[1:].partition("}")
        return namespace, local
    return "", qname


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
