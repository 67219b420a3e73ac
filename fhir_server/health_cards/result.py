"""Typed verification results: verdict, reasons, warnings, issuer, who (subject), what (doses)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

VALID = "valid"
INVALID = "invalid"
NOT_TRUSTED = "not-trusted"
REVOKED = "revoked"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
# worst first: the verdict of a card is the worst category among its reasons
VERDICTS = (INVALID, NOT_TRUSTED, REVOKED, EXPIRED, NOT_YET_VALID, VALID)


@dataclass(frozen=True)
class Subject:
    """Who the card is about."""

    name: str
    family: str | None
    given: tuple[str, ...]
    birth_date: str | None


@dataclass(frozen=True)
class Dose:
    """One immunization on the card."""

    vaccine_system: str | None
    vaccine_code: str | None
    date: str | None
    lot_number: str | None
    performer: str | None
    status: str | None


@dataclass
class Findings:
    """Reasons collected while checking a card, each tagged with the verdict it implies."""

    reasons: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, verdict: str, message: str) -> None:
        """Record a reason that makes the card fail with this verdict."""
        self.reasons.append((verdict, message))

    def extend(self, verdict: str, messages: list[str]) -> None:
        """Record several reasons of the same verdict."""
        self.reasons.extend((verdict, m) for m in messages)

    def issue(self, strict: bool, message: str) -> None:
        """A conformance issue: a reason (invalid) in strict mode, else a warning."""
        if strict:
            self.add(INVALID, message)
        else:
            self.warnings.append(message)

    def verdict(self) -> str:
        """The worst verdict among the reasons (valid if there are none)."""
        found = {v for v, _ in self.reasons}
        return next((v for v in VERDICTS if v in found), VALID)

    def messages(self) -> list[str]:
        """The reasons' sentences, in the order found."""
        return [m for _, m in self.reasons]


@dataclass
class CardResult:
    """Verification of one JWS."""

    verdict: str
    reasons: list[str]
    warnings: list[str]
    issuer: str | None = None
    issuer_name: str | None = None
    kid: str | None = None
    subject: Subject | None = None
    doses: list[Dose] = field(default_factory=list)
    nbf: float | None = None
    exp: float | None = None
    rid: str | None = None


@dataclass
class VerificationResult:
    """Verification of one input (QR image, shc:/ text, JWS, file): one or more cards."""

    verdict: str
    reasons: list[str]
    warnings: list[str]
    issuer: str | None = None
    issuer_name: str | None = None
    subject: Subject | None = None
    doses: list[Dose] = field(default_factory=list)
    cards: list[CardResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only for the verdict valid."""
        return self.verdict == VALID

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (for the REST answer or the CLI's --json)."""
        return asdict(self)


def combine(cards: list[CardResult], findings: Findings | None = None) -> VerificationResult:
    """One result for several cards (worst verdict) plus input-level findings."""
    findings = findings or Findings()
    reasons = findings.messages()
    warnings = list(findings.warnings)
    worst = {findings.verdict()} | {c.verdict for c in cards}
    for n, card in enumerate(cards, start=1):
        prefix = f"[card {n}] " if len(cards) > 1 else ""
        reasons += [prefix + r for r in card.reasons]
        warnings += [prefix + w for w in card.warnings]
    verdict = next(v for v in VERDICTS if v in worst)
    first = cards[0] if cards else None
    return VerificationResult(
        verdict, reasons, warnings,
        issuer=first.issuer if first else None,
        issuer_name=first.issuer_name if first else None,
        subject=next((c.subject for c in cards if c.subject), None),
        doses=[d for c in cards for d in c.doses], cards=cards)


def failure(verdict: str, message: str) -> VerificationResult:
    """A result for input that could not be read at all."""
    return VerificationResult(verdict, [message], [])


def summarise(bundle: Any) -> tuple[Subject | None, list[Dose]]:
    """Who and what a card's bundle says (patient name, birth date; vaccine, date, lot...)."""
    subject: Subject | None = None
    doses: list[Dose] = []
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        res = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(res, Mapping):
            continue
        if res.get("resourceType") == "Patient" and subject is None:
            subject = _subject(res)
        elif res.get("resourceType") == "Immunization":
            doses.append(_dose(res))
    return subject, doses


def _subject(patient: Mapping[str, Any]) -> Subject:
    """Subject of a Patient resource (its first name: HumanName.text, else family + given)."""
    names = patient.get("name")
    name = names[0] if isinstance(names, list) and names and isinstance(names[0], Mapping) else {}
    given_raw = name.get("given")
    given = tuple(str(g) for g in given_raw) if isinstance(given_raw, list) else ()
    family = name.get("family") if isinstance(name.get("family"), str) else None
    written = name.get("text") if isinstance(name.get("text"), str) else ""
    # the name as written first, else in Vietnamese order: family name first ("Nguyễn Văn An")
    text = written or " ".join([family, *given] if family else given)
    birth = patient.get("birthDate")
    return Subject(text, family, given, birth if isinstance(birth, str) else None)


def _dose(imm: Mapping[str, Any]) -> Dose:
    """Dose of an Immunization resource."""
    code = imm.get("vaccineCode")
    codings = code.get("coding") if isinstance(code, Mapping) else None
    first = codings[0] if isinstance(codings, list) and codings else {}
    first = first if isinstance(first, Mapping) else {}
    performer = None
    for item in imm.get("performer") or []:
        actor = item.get("actor") if isinstance(item, Mapping) else None
        if isinstance(actor, Mapping) and isinstance(actor.get("display"), str):
            performer = actor["display"]
            break
    date = imm.get("occurrenceDateTime") or imm.get("occurrenceString")
    return Dose(_str(first.get("system")), _str(first.get("code")), _str(date),
                _str(imm.get("lotNumber")), performer, _str(imm.get("status")))


def _str(value: Any) -> str | None:
    """value if it is a string, else None."""
    return value if isinstance(value, str) else None


def timestamp(seconds: float) -> str:
    """ISO 8601 UTC rendering of a JWT time, for reasons."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")
