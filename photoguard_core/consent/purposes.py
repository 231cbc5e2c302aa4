"""Purposes: what a photo is used for, and what that use allows.

Consent is given per purpose ("the website", "the newsletter"), so every decision is
made for one purpose. A purpose also carries what the rendition must look like for
that audience: how large the published image may be, how faces are hidden, and
whether people may be named next to their picture (UK Safer Internet Centre:
"images without names, names without images" on anything the public can see).

Schools differ, so the defaults can be overridden and extended from configuration;
anything the configuration gets wrong is refused with a message naming the purpose
and the field, because a silently ignored typo ("audiance") could publish more than
the school intended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

AUDIENCES = ("public", "portal", "internal")
STYLES = ("solid", "pixelate")

#: The rendition pipeline refuses anything smaller (see ``render.plan``).
MIN_SIZE = 16

# A purpose name becomes a CSV column (``consent_<name>``), so it must be a plain
# identifier; and ``consent_<name>_until`` is the expiry column, so a purpose name
# ending in ``_until`` would be read as another purpose's expiry.
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Purpose:
    """One use of photos, with the limits that apply to every rendition for it.

    ``audience`` says who can see the result: ``public`` (anyone: website, social
    media, press, print), ``portal`` (parents behind a login) or ``internal`` (staff
    and pupils on school premises). Safeguarding rules are stricter the wider the
    audience, so the audience, not the purpose name, drives them.
    """

    name: str
    audience: str
    max_size: int
    style: str = "solid"
    names_with_images: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError(f"purpose {self.name!r}: " + "; ".join(problems))

    @property
    def label(self) -> str:
        """The name as a person would say it ("social media", "parents portal")."""
        return self.name.replace("_", " ")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _problems(p: Purpose) -> list[str]:
    out = []
    if not isinstance(p.name, str) or not _NAME_RE.match(p.name) or p.name.endswith("_until"):
        out.append(
            "the name must be lower-case letters, digits and underscores, start with a "
            "letter, be at most 40 characters and not end in '_until'"
        )
    if p.audience not in AUDIENCES:
        out.append(f"unknown audience {p.audience!r} (choose from {', '.join(AUDIENCES)})")
    if p.style not in STYLES:
        out.append(f"unknown style {p.style!r} (choose from {', '.join(STYLES)})")
    if isinstance(p.max_size, bool) or not isinstance(p.max_size, int):
        out.append(f"max_size must be a whole number of pixels, not {p.max_size!r}")
    elif p.max_size < MIN_SIZE:
        out.append(f"max_size {p.max_size} is below the minimum of {MIN_SIZE} pixels")
    if not isinstance(p.names_with_images, bool):
        out.append(f"names_with_images must be true or false, not {p.names_with_images!r}")
    if not isinstance(p.description, str):
        out.append("description must be text")
    return out


def _defaults() -> dict[str, Purpose]:
    # Sizes: large enough for the medium, small enough that a published copy is not
    # a print-quality original. Anything a parent can forward or a visitor can save
    # counts as public: newsletters are emailed on and posted on school websites.
    # Portal and internal renditions pixelate (less jarring in a class photo, still
    # heavy enough not to be reversible); public ones use a solid fill.
    items = [
        Purpose(
            name="internal",
            audience="internal",
            max_size=2048,
            style="pixelate",
            names_with_images=True,
            description="Displays, slideshows and records inside school, seen by staff and pupils.",
        ),
        Purpose(
            name="newsletter",
            audience="public",
            max_size=1600,
            description="The school newsletter: forwarded and posted online, so treated as public.",
        ),
        Purpose(
            name="website",
            audience="public",
            max_size=1600,
            description="The school's public website.",
        ),
        Purpose(
            name="social_media",
            audience="public",
            max_size=1080,
            description="The school's social media accounts.",
        ),
        Purpose(
            name="prospectus",
            audience="public",
            max_size=3000,
            description="The printed and online prospectus; print needs a larger image.",
        ),
        Purpose(
            name="press",
            audience="public",
            max_size=2048,
            description="Newspapers and other media the school gives photos to.",
        ),
        Purpose(
            name="parents_portal",
            audience="portal",
            max_size=2048,
            style="pixelate",
            description="The password-protected parents' area; other children's parents see it.",
        ),
        Purpose(
            name="video",
            audience="public",
            max_size=1920,
            description="Stills for, or taken from, school videos shown to the public.",
        ),
    ]
    return {p.name: p for p in items}


#: The purposes every school starts with, by name. Read-only: a school's changes go
#: through :func:`load_purposes`, never into the shared defaults.
DEFAULT_PURPOSES: Mapping[str, Purpose] = MappingProxyType(_defaults())

_FIELDS = {f.name for f in fields(Purpose)}
_REQUIRED_FOR_NEW = ("audience", "max_size")


def load_purposes(config: Mapping[str, Any] | None) -> dict[str, Purpose]:
    """The defaults, with a school's configuration laid over them.

    ``config`` maps a purpose name to a mapping of fields, e.g.
    ``{"website": {"max_size": 1200}, "sports_film": {"audience": "public",
    "max_size": 1920}}``. Fields given for an existing purpose replace the default
    ones; a new purpose needs at least ``audience`` and ``max_size`` (the rest take
    the safe defaults: solid fill, no names). Purposes cannot be removed here: consent
    already recorded for a purpose must stay answerable.

    Raises :class:`ValueError` naming every problem found, so one run shows a school
    all its mistakes.
    """
    purposes = dict(DEFAULT_PURPOSES)
    if config is None:
        return purposes
    if not isinstance(config, Mapping):
        raise ValueError("purpose configuration must map purpose names to their settings")
    problems: list[str] = []
    for name, settings in config.items():
        try:
            purposes[name] = _one_purpose(name, settings, purposes.get(name))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("invalid purpose configuration: " + " | ".join(problems))
    return purposes


def _one_purpose(name: Any, settings: Any, base: Purpose | None) -> Purpose:
    if not isinstance(name, str):
        raise ValueError(f"purpose name {name!r} must be text")
    if not isinstance(settings, Mapping):
        raise ValueError(f"purpose {name!r}: settings must be a table of fields")
    unknown = sorted(set(settings) - _FIELDS)
    if unknown:
        raise ValueError(
            f"purpose {name!r}: unknown field(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(_FIELDS))})"
        )
    if "name" in settings and settings["name"] != name:
        raise ValueError(f"purpose {name!r}: 'name' inside its settings says {settings['name']!r}")
    values = {k: v for k, v in settings.items() if k != "name"}
    if base is not None:
        return replace(base, **values)
    missing = [k for k in _REQUIRED_FOR_NEW if k not in values]
    if missing:
        raise ValueError(f"new purpose {name!r} needs {' and '.join(missing)}")
    return Purpose(name=name, **values)
