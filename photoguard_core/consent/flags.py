"""Safeguarding flags: people who must never be published identifiably.

A flag overrides any consent (DESIGN §2.6). The 2020 ICO reprimand over class photos
that showed adopted children, against their parents' refusal, is the case this
prevents: a form saying "yes" does not make publishing safe for a child whose birth
family, or an abuser, is looking for them.

Every flag redacts the person's face for every purpose. Two flags go further and
withhold the *whole photo* from anything outside school:

- ``never_publish`` says so in its name: the school decided this person does not
  appear in published material at all.
- ``protected_identity`` (a child with a new identity, under a court order, or in a
  refuge) is the case where being found is the danger itself.

For both, a redacted face is not enough: uniform, the school's name on the page,
the event, siblings and classmates around them identify a child whose face is hidden,
to exactly the people who know them. So for ``public`` and ``portal`` audiences
(other children's parents see the portal) the photo is withheld. Inside school
(``internal``) those people are not the audience, so redacting the face is enough.

``looked_after``, ``adopted`` and ``at_risk`` redact the face only; a school that wants
a particular child kept out of published photos entirely adds ``never_publish``.

Flag *categories* are special, confidential safeguarding information: the reasons
this package writes say "safeguarding flag", never which one, because they end up
in logs, tags and reports read by staff who are not the DSL.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Vulnerability(StrEnum):
    """A per-person safeguarding flag, set by the designated safeguarding lead."""

    LOOKED_AFTER = "looked_after"
    ADOPTED = "adopted"
    AT_RISK = "at_risk"
    PROTECTED_IDENTITY = "protected_identity"
    NEVER_PUBLISH = "never_publish"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Flags that withhold a whole photo (not just the face) from these audiences.
WITHHOLDING_FLAGS: frozenset[Vulnerability] = frozenset(
    {Vulnerability.NEVER_PUBLISH, Vulnerability.PROTECTED_IDENTITY}
)
#: The one audience where a flagged person's redacted face is enough.
FACE_ONLY_AUDIENCE = "internal"


def parse_vulnerability(text: str) -> Vulnerability:
    """A flag from how people type it: ``"Looked after"``, ``"never-publish"``.

    Raises :class:`ValueError` listing the known flags; an unreadable flag must stop
    an import rather than be dropped, because dropping it would publish the child.
    """
    key = "_".join(text.strip().lower().replace("-", " ").split())
    try:
        return Vulnerability(key)
    except ValueError:
        known = ", ".join(v.value for v in Vulnerability)
        raise ValueError(f"unknown flag {text.strip()!r} (known: {known})") from None


def withholds_photo(flags: Iterable[Vulnerability], audience: str) -> bool:
    """True when a person with ``flags`` in a photo keeps the photo from ``audience``.

    Written as "anything but internal" so an audience this module does not know
    (a future one, a typo that slipped past validation) withholds.
    """
    return audience != FACE_ONLY_AUDIENCE and not WITHHOLDING_FLAGS.isdisjoint(flags)
