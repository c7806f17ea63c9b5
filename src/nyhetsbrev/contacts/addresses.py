"""Email addresses: the one check every way onto the list uses (add, edit, import, sign-up).

`check_email` says whether an address is valid and gives its comparison form; `sendable_form`
also refuses addresses that cannot be mailed without SMTPUTF8 (sign-up mails at once).
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """An address `email-validator` rejects; `reason` is its explanation."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f'"{address}" is not a valid email address: {reason}')
        self.address = address
        self.reason = reason


# email-validator's rule for a plain ASCII local part (RFC 5322 dot-atom), which it accepts
# unchanged; see `check_email`.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_DOT_ATOM = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
_PLAIN_DOMAIN = re.compile(r"[^\s\"<>()\[\]\\,;:@]+\Z")
_MAX_LENGTH = 254  # octets, RFC 5321 as email-validator counts them


@lru_cache(maxsize=16384)
def _valid_domain(domain: str) -> tuple[str, str]:
    """email-validator's verdict on a domain: `(normalised, IDNA ASCII)`, or EmailNotValidError."""
    validated = validate_email("a@" + domain, check_deliverability=False)
    return validated.domain, validated.ascii_domain


def check_email(address: str) -> tuple[str, str]:
    """`(as_given, normalised)` for a valid address, else `InvalidEmail`.

    As given: surrounding whitespace removed, otherwise untouched. Normalised: the whole address
    lower-cased after `email-validator`'s normalisation (Unicode NFC, IDNA domains in Unicode
    form), so `Kari@Politiet.NO` and `kari@politiet.no` are one contact.

    Validation is email-validator's (without DNS). Because a list holds thousands of addresses
    at a few hundred domains, its verdict on each domain is cached; an address whose local part
    is plain ASCII (which email-validator accepts as it is) then needs only that rule and the
    length limits. Anything else goes through `validate_email` whole. A test checks that both
    paths agree.
    """
    given = address.strip()
    if not given:
        raise InvalidEmail(given, "the address is empty")
    local, _, domain = given.rpartition("@")
    if _DOT_ATOM.match(local) and _PLAIN_DOMAIN.match(domain):
        try:
            normal_domain, ascii_domain = _valid_domain(domain)
        except EmailNotValidError:
            pass  # the full validation below explains what is wrong
        else:
            normalised = f"{local}@{normal_domain}"
            if (
                len(given.encode()) <= _MAX_LENGTH
                and len(normalised.encode()) <= _MAX_LENGTH
                and len(local) + 1 + len(ascii_domain) <= _MAX_LENGTH
            ):
                return given, normalised.lower()
    try:
        validated = validate_email(given, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(given, str(exc)) from None
    return given, validated.normalized.lower()


def sendable_form(address: str) -> str:
    """The address as an SMTP server without SMTPUTF8 takes it (IDNA domain), else `InvalidEmail`.

    Sign-up needs it: it mails the confirmation link at once. Import and `add` keep an address
    whose local part is not ASCII; sending reports it then, per recipient.
    """
    given, _ = check_email(address)
    local, _, domain = given.rpartition("@")
    if _DOT_ATOM.match(local) and _PLAIN_DOMAIN.match(domain):
        return f"{local}@{_valid_domain(domain)[1]}"
    ascii_email = validate_email(given, check_deliverability=False).ascii_email
    if not ascii_email:
        raise InvalidEmail(given, "the part before the @ needs a server that accepts SMTPUTF8")
    return str(ascii_email)


def normalise_email(address: str) -> str:
    """The comparison form of an address; for an invalid one, simply trimmed and lower-cased."""
    try:
        return check_email(address)[1]
    except InvalidEmail:
        return address.strip().lower()
