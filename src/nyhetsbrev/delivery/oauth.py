"""OAuth2 access tokens for SMTP (SASL XOAUTH2): from a token command, or from Microsoft 365.

Two sources, one small interface (`token()`, `invalidate()`):

- `CommandTokens` runs `NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND` (split like a shell would, never run
  by one) and reads the token from its stdout: a bare token, or JSON with `access_token` /
  `accessToken` and `expires_in` / `expires_on` / `expiresOn` (as `az account get-access-token`
  prints). Without a stated expiry, a JWT's `exp` claim is used; failing that the token is kept
  until the server refuses it.
- `M365Tokens` is msal's client-credentials flow for an app registration (certificate preferred,
  or a client secret), with msal's in-memory token cache (it renews a token before it expires).

A token is asked for each time a connection is opened; it is re-fetched when it is about to
expire or after `invalidate()` (the server refused it). Tokens and secrets are never printed,
logged or written: error messages quote the command's name and stderr with tokens masked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import shlex
import ssl
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from nyhetsbrev.delivery.tls import client_context
from nyhetsbrev.errors import DeliveryError

TOKEN_COMMAND_ENV = "NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND"
TENANT_ENV = "NYHETSBREV_M365_TENANT_ID"
CLIENT_ENV = "NYHETSBREV_M365_CLIENT_ID"
CERTIFICATE_ENV = "NYHETSBREV_M365_CLIENT_CERTIFICATE"
CLIENT_SECRET_ENV = "NYHETSBREV_M365_CLIENT_SECRET"
AUTHORITY_ENV = "NYHETSBREV_M365_AUTHORITY"
AUTHORITY = "https://login.microsoftonline.com"
SCOPE = "https://outlook.office365.com/.default"
REFRESH_MARGIN = 300.0  # seconds before expiry a token counts as expired
COMMAND_TIMEOUT = 60.0
_JWT = r"eyJ[\w-]+\.[\w-]+\.[\w-]*"


class TokenError(DeliveryError):
    """No access token could be had (the command failed, or Microsoft Entra ID refused)."""


class TokenSource(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass(frozen=True)
class TokenCommand:
    """`NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND`, split into its words."""

    argv: tuple[str, ...] = field(repr=False)

    @property
    def program(self) -> str:
        return Path(self.argv[0]).name


@dataclass(frozen=True)
class M365App:
    """An app registration in a Microsoft 365 tenant that may send as the mailbox."""

    tenant_id: str
    client_id: str
    certificate: Path | None = None
    secret: str | None = field(default=None, repr=False)
    authority: str = AUTHORITY

    @property
    def describe(self) -> str:
        how = f"certificate {self.certificate.name}" if self.certificate else "client secret"
        return f"app {self.client_id} in tenant {self.tenant_id} ({how})"


def token_command_from_env(env: Mapping[str, str]) -> TokenCommand:
    command = env.get(TOKEN_COMMAND_ENV, "").strip()
    if not command:
        raise DeliveryError(
            f"NYHETSBREV_SMTP_AUTH=xoauth2 needs {TOKEN_COMMAND_ENV}: a command that prints an "
            'access token on stdout, e.g. "az account get-access-token --scope '
            f'{SCOPE} --query accessToken -o tsv"'
        )
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise DeliveryError(f"{TOKEN_COMMAND_ENV} cannot be split into words: {exc}") from None
    return TokenCommand(tuple(argv))


def m365_from_env(env: Mapping[str, str]) -> M365App:
    missing = [name for name in (TENANT_ENV, CLIENT_ENV) if not env.get(name, "").strip()]
    certificate = env.get(CERTIFICATE_ENV, "").strip()
    secret = env.get(CLIENT_SECRET_ENV) or None
    if not certificate and not secret:
        missing.append(f"{CERTIFICATE_ENV} (preferred) or {CLIENT_SECRET_ENV}")
    if missing:
        raise DeliveryError(
            "NYHETSBREV_SMTP_AUTH=m365 needs " + ", ".join(missing) + ": the app registration's "
            "Directory (tenant) ID, Application (client) ID and its certificate or secret "
            "(docs/operations.md, Microsoft 365)"
        )
    path = Path(certificate).expanduser() if certificate else None
    if path is not None:
        read_certificate(path)  # fail now, before anything is sent
    authority = env.get(AUTHORITY_ENV, "").strip().rstrip("/") or AUTHORITY
    return M365App(
        env[TENANT_ENV].strip(), env[CLIENT_ENV].strip(), path, None if path else secret, authority
    )


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def token_source(oauth: TokenCommand | M365App, ca_file: Path | None) -> TokenSource:
    if isinstance(oauth, TokenCommand):
        return CommandTokens(oauth)
    return M365Tokens(oauth, ca_file)


class CommandTokens:
    """Tokens printed by a command; run again when the last one is (nearly) expired or refused."""

    def __init__(self, command: TokenCommand, *, clock: Callable[[], float] = time.time) -> None:
        self.command = command
        self.runs = 0
        self._clock = clock
        self._token: str | None = None
        self._expires: float | None = None

    def token(self) -> str:
        if self._token is None or (
            self._expires is not None and self._clock() >= self._expires - REFRESH_MARGIN
        ):
            self._token, self._expires = self._run()
        return self._token

    def invalidate(self) -> None:
        self._token = self._expires = None

    def _run(self) -> tuple[str, float | None]:
        name = self.command.program
        self.runs += 1
        try:
            done = subprocess.run(
                self.command.argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise TokenError(
                f"{TOKEN_COMMAND_ENV}: the program {name} is not found — give its full path"
            ) from None
        except subprocess.TimeoutExpired:
            raise TokenError(
                f"{TOKEN_COMMAND_ENV} ({name}) printed no token within {COMMAND_TIMEOUT:g} s"
            ) from None
        except OSError as exc:
            raise TokenError(
                f"{TOKEN_COMMAND_ENV}: cannot run {name}: {exc.strerror or exc}"
            ) from None
        out = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            said = _masked(done.stderr.decode("utf-8", "replace"), out)
            raise TokenError(
                f"{TOKEN_COMMAND_ENV} ({name}) failed with exit code {done.returncode}"
                + (f": {said}" if said else "")
                + " — run it yourself to see why (e.g. log in again)"
            )
        token, expires = _parse_output(out, self._clock())
        if not token or any(c.isspace() for c in token):
            raise TokenError(
                f"{TOKEN_COMMAND_ENV} ({name}) did not print one token on stdout (it printed "
                f"{len(out)} characters): it must print the access token only, or JSON with "
                "access_token"
            )
        return token, expires


class M365Tokens:
    """msal's client-credentials flow; msal keeps the token in memory and renews it in time."""

    def __init__(self, app: M365App, ca_file: Path | None) -> None:
        self.app = app
        self.ca_file = ca_file
        self.requests = 0
        self._client: Any = None

    def token(self) -> str:
        client = self._client or self._connect()
        try:
            result = client.acquire_token_for_client(scopes=[SCOPE])
        except Exception as exc:  # network and TLS errors from requests
            raise TokenError(self._unreachable(exc)) from None
        if "access_token" not in result:
            raise TokenError(explain_entra_error(result, self.app))
        if result.get("token_source") == "identity_provider":
            self.requests += 1
        return str(result["access_token"])

    def invalidate(self) -> None:
        if self._client is not None:
            self._client.remove_tokens_for_client()

    def _connect(self) -> Any:
        import msal

        app = self.app
        credential: Any = app.secret
        if app.certificate is not None:
            key, certificate = read_certificate(app.certificate)
            credential = {"private_key": key, "public_certificate": certificate}
        custom = app.authority != AUTHORITY
        try:
            self._client = msal.ConfidentialClientApplication(
                app.client_id,
                client_credential=credential,
                authority=f"{app.authority}/{app.tenant_id}",
                http_client=_http_client(client_context(self.ca_file)),
                validate_authority=not custom,
                instance_discovery=False if custom else None,
            )
        except ValueError as exc:  # the tenant's OpenID discovery answered 4xx
            text = str(exc)
            if "AADSTS90002" in text or "authority configuration" in text:
                raise TokenError(
                    f"Microsoft Entra ID does not know the tenant {app.tenant_id} "
                    f"({TENANT_ENV}): copy the Directory (tenant) ID from the app registration's "
                    "Overview page"
                ) from None
            raise TokenError(f"Microsoft 365 login failed: {_first_line(text)}") from None
        except Exception as exc:
            raise TokenError(self._unreachable(exc)) from None
        return self._client

    def _unreachable(self, exc: Exception) -> str:
        reason = _first_line(str(exc)) or type(exc).__name__
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            reason = (
                "its certificate is not trusted here; if a proxy of your organisation "
                "inspects TLS, put its CA in NYHETSBREV_SMTP_CA_FILE"
            )
        return f"cannot get a token from {self.app.authority}: {reason}"


def read_certificate(path: Path) -> tuple[str, str]:
    """The private key and the certificate (both PEM) from one PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeliveryError(f"{CERTIFICATE_ENV}={path}: cannot be read: {exc}") from None
    blocks = {
        kind: f"-----BEGIN {kind}-----{body}-----END {kind}-----\n"
        for kind, body in _pem_blocks(text)
    }
    key = next((b for kind, b in blocks.items() if kind.endswith("PRIVATE KEY")), None)
    certificate = blocks.get("CERTIFICATE")
    if key is None or certificate is None:
        lacks = "private key" if key is None else "certificate"
        raise DeliveryError(
            f"{CERTIFICATE_ENV}={path}: the file has no {lacks}: it must hold both the private "
            "key and the certificate, in PEM (e.g. cat key.pem cert.pem > app.pem)"
        )
    try:
        serialization.load_pem_private_key(key.encode(), password=None)
        x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, TypeError) as exc:
        raise DeliveryError(
            f"{CERTIFICATE_ENV}={path}: {exc} (the key must not be encrypted)"
        ) from None
    return key, certificate


def thumbprint(certificate_pem: str) -> str:
    """The SHA-1 thumbprint Azure shows for an uploaded certificate (hex, upper case)."""
    der = ssl.PEM_cert_to_DER_cert(certificate_pem)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


def explain_entra_error(result: Mapping[str, Any], app: M365App) -> str:
    """Microsoft Entra ID's refusal, in words, with what to change."""
    described = str(result.get("error_description") or result.get("error") or "no reason given")
    first = _first_line(described)
    advice = {
        "AADSTS700016": f"{CLIENT_ENV}={app.client_id} is not an app of tenant {app.tenant_id}: "
        "copy the Application (client) ID from the app registration's Overview page",
        "AADSTS90002": f"the tenant {app.tenant_id} ({TENANT_ENV}) does not exist: copy the "
        "Directory (tenant) ID from the app registration's Overview page",
        "AADSTS7000215": f"{CLIENT_SECRET_ENV} is wrong: use the secret's Value (shown once when "
        "it was made), not its Secret ID",
        "AADSTS7000222": f"the client secret has expired: make a new one under Certificates & "
        f"secrets and put its Value in {CLIENT_SECRET_ENV}",
        "AADSTS700027": "the app registration does not have this certificate: upload it under "
        "Certificates & secrets",
        "AADSTS700024": "the client assertion is not within its valid time range: check this "
        "machine's clock",
        "AADSTS70011": f"the scope was refused: it must be {SCOPE}",
        "AADSTS7000218": f"the app wants a client secret or certificate: set {CERTIFICATE_ENV} "
        f"or {CLIENT_SECRET_ENV}",
    }
    for code, what in advice.items():
        if code in described:
            if code == "AADSTS700027" and app.certificate is not None:
                _, certificate = read_certificate(app.certificate)
                what += f" (thumbprint {thumbprint(certificate)})"
            return f"Microsoft 365 refused the app's login: {what} ({first})"
    return f"Microsoft 365 refused the app's login: {first} — see docs/operations.md"


def _pem_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", text, re.S)


def _parse_output(out: str, now: float) -> tuple[str, float | None]:
    if not out.startswith("{"):
        return out, _jwt_expiry(out)
    try:
        data = json.loads(out)
    except ValueError:
        raise TokenError(f"{TOKEN_COMMAND_ENV} printed JSON that cannot be read") from None
    token = str(data.get("access_token") or data.get("accessToken") or data.get("token") or "")
    expires: float | None = None
    if isinstance(data.get("expires_in"), int | float | str):
        expires = now + float(data["expires_in"])
    elif isinstance(data.get("expires_on"), int | float | str):
        expires = float(data["expires_on"])
    elif isinstance(data.get("expiresOn"), str):
        expires = datetime.fromisoformat(data["expiresOn"]).timestamp()
    return token, expires if expires is not None else _jwt_expiry(token)


def _jwt_expiry(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def _masked(text: str, token: str) -> str:
    line = next((s.strip() for s in reversed(text.splitlines()) if s.strip()), "")
    if token:
        for word in token.split():
            if len(word) >= 8:
                line = line.replace(word, "***")
    return re.sub(_JWT, "***", line)[:300]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _http_client(context: ssl.SSLContext) -> Any:
    """A requests session that trusts `context` (the system's CAs plus NYHETSBREV_SMTP_CA_FILE)."""
    import requests
    from requests.adapters import HTTPAdapter

    class TrustingAdapter(HTTPAdapter):
        def build_connection_pool_key_attributes(  # type: ignore[no-untyped-def]
            self, request, verify, cert=None
        ):
            host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["ssl_context"] = context
            return host, pool

    session = requests.Session()
    session.mount("https://", TrustingAdapter())
    session.request = _with_timeout(session.request)  # type: ignore[method-assign]
    return session


def _with_timeout(request: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", 30)
        return request(*args, **kwargs)

    return call
