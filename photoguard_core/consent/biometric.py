"""Biometric consent: may photoguard keep a face template for this person?

A face template used to recognise someone is biometric data (special category under
UK GDPR), and for pupils under 18 the Protection of Freedoms Act 2012 ss.26-28 sets
the rules a school must follow:

- at least one parent has consented **in writing** (s.27(1)(b));
- no parent objects (s.27(3)(a)): one parent's objection outweighs the other's consent;
- the child does not object or refuse (s.26(5), s.27(3)(b)): the child's objection
  overrides every parent.

Each respondent can change their mind, so only each one's latest response counts,
and an objection or withdrawal stops processing from the moment it is recorded (the
catalogue then deletes the templates). For adults only their own consent matters.
In detection-only mode the school does no recognition for anyone.

The law also requires every parent to have been *notified*; that is a process the
school runs, not something this function can see, so the DSL guide covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from photoguard_core.consent.ledger import human_date, require_aware

Respondent = Literal["parent", "child", "self"]
Response = Literal["granted", "objected", "withdrawn"]

RESPONDENTS = ("parent", "child", "self")
RESPONSES = ("granted", "objected", "withdrawn")
_STOPS = ("objected", "withdrawn")


@dataclass(frozen=True)
class BiometricResponse:
    """One respondent's answer about biometric processing for ``person_id``.

    ``respondent`` is ``parent`` (anyone with parental responsibility; told apart by
    ``respondent_name``), ``child`` (the pupil themself) or ``self`` (an adult, or a
    pupil answering for themself: both count as the person's own voice).
    """

    person_id: str
    respondent: Respondent
    respondent_name: str
    response: Response
    in_writing: bool
    recorded_at: datetime
    recorded_by: str

    def __post_init__(self) -> None:
        if self.respondent not in RESPONDENTS:
            raise ValueError(
                f"unknown respondent {self.respondent!r} (choose from {', '.join(RESPONDENTS)})"
            )
        if self.response not in RESPONSES:
            raise ValueError(
                f"unknown response {self.response!r} (choose from {', '.join(RESPONSES)})"
            )
        if self.respondent == "parent" and not self.respondent_name.strip():
            # Two parents must be told apart: one may object while the other consents.
            raise ValueError("a parent's response must carry the parent's name")
        if not self.recorded_by.strip():
            raise ValueError("a biometric response must say who recorded it (recorded_by)")
        object.__setattr__(self, "recorded_at", require_aware(self.recorded_at, "recorded_at"))

    @property
    def own(self) -> bool:
        """True when this is the person's own voice (the child, or an adult)."""
        return self.respondent != "parent"

    def key(self) -> tuple[str, str]:
        """Who answered: each parent by name; the person themself once, however named."""
        if self.own:
            return ("own", "")
        return ("parent", " ".join(self.respondent_name.casefold().split()))

    def describe(self) -> str:
        who = "the child" if self.respondent == "child" else self.respondent_name.strip()
        if self.respondent == "parent":
            who = f"{who} (parent)"
        elif self.respondent == "self":
            who = f"{who} (the person themself)" if who else "the person themself"
        how = ""
        if self.response == "granted":
            how = " in writing" if self.in_writing else " but not in writing"
        return f"{who} {self.response}{how} on {human_date(self.recorded_at)}"


@dataclass(frozen=True)
class BiometricDecision:
    """Whether a face template may be made and kept, and why, in words."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class _Standing:
    latest: BiometricResponse
    written_grant: BiometricResponse | None


def _standings(
    responses: Iterable[BiometricResponse], at: datetime
) -> dict[tuple[str, str], _Standing]:
    """Each respondent's latest response, and whether their current grant is written.

    A parent who consented in writing and later confirmed it by phone still has a
    written consent on file; a written consent given *before* an objection does not
    survive it. So the written grant is searched only after the last objection.
    """
    ordered = sorted(
        (r for r in responses if r.recorded_at <= at),
        key=lambda r: r.recorded_at,
    )
    out: dict[tuple[str, str], _Standing] = {}
    for r in ordered:
        previous = out.get(r.key())
        written = previous.written_grant if previous else None
        if r.response in _STOPS:
            written = None
        elif r.in_writing:
            written = r
        out[r.key()] = _Standing(r, written)
    return out


def biometric_allowed(
    responses: Iterable[BiometricResponse],
    *,
    is_minor: bool,
    at: datetime,
    detection_only: bool = False,
) -> BiometricDecision:
    """May a face template be stored and matched for this person at ``at``?

    ``responses`` are one person's responses (all of them; those recorded after
    ``at`` are ignored). Mixing people is a caller error and raises
    :class:`ValueError`. Every "no" names who said what and when.
    """
    at = require_aware(at, "at")
    responses = list(responses)
    if len({r.person_id for r in responses}) > 1:
        raise ValueError("biometric_allowed takes the responses of one person at a time")
    if detection_only:
        return BiometricDecision(
            False,
            "recognition is switched off: the school runs in detection-only mode, "
            "so faces are only assigned by hand",
        )
    standings = _standings(responses, at)
    return _decide_minor(standings) if is_minor else _decide_adult(standings)


def _decide_adult(standings: dict[tuple[str, str], _Standing]) -> BiometricDecision:
    own = standings.get(("own", ""))
    if own is None:
        return BiometricDecision(
            False, "no biometric consent has been recorded from the person themself"
        )
    if own.latest.response != "granted":
        return BiometricDecision(False, f"biometric consent stopped: {own.latest.describe()}")
    return BiometricDecision(True, f"biometric consent: {own.latest.describe()}")


def _decide_minor(standings: dict[tuple[str, str], _Standing]) -> BiometricDecision:
    parents = [s for k, s in standings.items() if k[0] == "parent"]
    own = standings.get(("own", ""))
    blocks = []
    if own is not None and own.latest.response in _STOPS:
        blocks.append(f"{own.latest.describe()}, and a child's objection overrides any consent")
    for s in parents:
        if s.latest.response in _STOPS:
            blocks.append(f"{s.latest.describe()}, and any parent's objection stops it")
    if blocks:
        return BiometricDecision(False, "biometric processing not allowed: " + "; ".join(blocks))
    written = [s.written_grant for s in parents if s.written_grant is not None]
    if not written:
        return BiometricDecision(False, _no_written_consent(parents))
    first = min(written, key=lambda r: r.recorded_at)
    reason = f"biometric consent: {first.describe()}; neither a parent nor the child has objected"
    return BiometricDecision(True, reason)


def _no_written_consent(parents: list[_Standing]) -> str:
    if not parents:
        return (
            "no biometric consent recorded: a parent must consent in writing before a "
            "face template is kept for a pupil under 18"
        )
    said = "; ".join(s.latest.describe() for s in parents)
    return (
        f"no parent has consented in writing ({said}): the law requires written consent "
        "from at least one parent for a pupil under 18"
    )
