"""Optional DKIM signing (dkimpy), with the key file and selector named in the environment.

Set `NYHETSBREV_DKIM_KEY_FILE` (a PEM RSA private key, outside the repository) and
`NYHETSBREV_DKIM_SELECTOR`; the signing domain is the sender's. Every header a receiver or a
forwarder should not be able to change is signed, including both List-Unsubscribe headers (as
RFC 8058 requires for one-click unsubscribe). Canonicalisation is relaxed/relaxed.

dkimpy is an extra (`pip install "nyhetsbrev[dkim]"`): it ships no wheel and imports dnspython
when loaded, so it is imported only here, only when DKIM is configured.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from nyhetsbrev.errors import DeliveryError

KEY_ENV = "NYHETSBREV_DKIM_KEY_FILE"
SELECTOR_ENV = "NYHETSBREV_DKIM_SELECTOR"
SIGNED_HEADERS = (
    b"from",
    b"reply-to",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


def _dkim() -> ModuleType:
    """The dkimpy module, or a clear error saying how to install it."""
    try:
        import dkim
    except ImportError:
        raise DeliveryError(
            f"{KEY_ENV} is set, so messages are to be DKIM-signed, but dkimpy is not installed — "
            'install it with: pip install "nyhetsbrev[dkim]" (or unset '
            f"{KEY_ENV} and {SELECTOR_ENV} to send unsigned)"
        ) from None
    module: ModuleType = dkim
    return module


class DkimSigner:
    """Signs finished messages for one domain with one key."""

    def __init__(self, key: bytes, selector: str, domain: str) -> None:
        self._dkim = _dkim()
        self.key = key
        self.selector = selector
        self.domain = domain
        try:  # fail now, with a clear message, not at the first recipient
            self(b"From: a@" + domain.encode() + b"\r\nSubject: x\r\n\r\nx\r\n")
        except self._dkim.DKIMException as exc:
            raise DeliveryError(
                f"{KEY_ENV}: cannot sign with this key ({exc}) — it must be a PEM RSA private key"
            ) from None

    def __call__(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front."""
        signature = self._dkim.sign(
            message,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n",
        )
        return bytes(signature) + message

    @property
    def description(self) -> str:
        return f"DKIM d={self.domain} s={self.selector}"


def signer_from_env(
    domain: str, environ: Mapping[str, str] | None = None
) -> Callable[[bytes], bytes] | None:
    """A `DkimSigner` when `NYHETSBREV_DKIM_KEY_FILE` is set, else None (no signing)."""
    env = os.environ if environ is None else environ
    key_file = env.get(KEY_ENV, "").strip()
    selector = env.get(SELECTOR_ENV, "").strip()
    if not key_file:
        if selector:
            raise DeliveryError(f"{SELECTOR_ENV} is set but {KEY_ENV} is not: set both, or neither")
        return None
    if not selector:
        raise DeliveryError(
            f"{KEY_ENV} is set but {SELECTOR_ENV} is not: set it to the selector of the DNS "
            f"record that publishes the public key (e.g. nyhetsbrev for "
            f"nyhetsbrev._domainkey.{domain})"
        )
    try:
        key = Path(key_file).expanduser().read_bytes()
    except OSError as exc:
        raise DeliveryError(f"{KEY_ENV}: cannot read {key_file} ({exc.strerror or exc})") from None
    return DkimSigner(key, selector, domain)
