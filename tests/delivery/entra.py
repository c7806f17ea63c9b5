"""A loopback stand-in for Microsoft Entra ID's token endpoint, over HTTPS with a test CA.

It serves what msal asks for in the client-credentials flow: the tenant's OpenID discovery
document and the v2.0 token endpoint. It checks a client secret, or a client assertion (a JWT
signed with the app's certificate: signature, `x5t#S256` thumbprint, `aud`, `iss`, `sub`), and
answers as Entra ID does (AADSTS error codes). Each token it issues is handed to `on_token`
(the SMTP sink that will accept it).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from tests.delivery.pki import Issued

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SCOPE = "https://outlook.office365.com/.default"


@dataclass
class Entra:
    """The endpoint's state: what the app registration has, and what was asked."""

    on_token: Callable[[str], object]
    secret: str | None = None
    certificate: x509.Certificate | None = None
    expires_in: int = 3599
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/{TENANT}/oauth2/v2.0/token"

    def discovery(self) -> dict[str, str]:
        base = f"{self.authority}/{TENANT}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": self.token_endpoint,
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append({k: v for k, v in form.items() if k != "client_secret"})
        if form.get("client_id") != CLIENT:
            return 400, _error(
                "unauthorized_client", "AADSTS700016: Application with identifier was not found"
            )
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return 400, _error("invalid_scope", "AADSTS70011: The provided value is not valid")
        if "client_assertion" in form:
            problem = self._check_assertion(form)
            if problem:
                return 401, _error("invalid_client", problem)
        elif self.secret is None or form.get("client_secret") != self.secret:
            return 401, _error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
        token = f"m365-token-{next(self._serial)}-{time.monotonic_ns()}"
        self.on_token(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}

    def _check_assertion(self, form: dict[str, str]) -> str | None:
        if self.certificate is None:
            return "AADSTS700027: no certificate registered"
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return "AADSTS700027: wrong client_assertion_type"
        assertion = form["client_assertion"]
        header = jwt.get_unverified_header(assertion)
        expected = base64.urlsafe_b64encode(self.certificate.fingerprint(hashes.SHA256()))
        if str(header.get("x5t#S256", "")).rstrip("=") != expected.rstrip(b"=").decode():
            return "AADSTS700027: the certificate with thumbprint is not registered"
        try:
            claims = jwt.decode(
                assertion,
                self.certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["PS256", "RS256"],
                audience=self.token_endpoint,
                issuer=CLIENT,
                options={"require": ["exp", "aud", "iss", "sub", "jti"]},
            )
        except jwt.InvalidTokenError as exc:
            return f"AADSTS700027: client assertion failed signature validation: {exc}"
        if claims["sub"] != CLIENT:
            return "AADSTS700027: sub is not the client"
        self.assertions.append((header, claims))
        return None


def _error(error: str, description: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"{description} Trace ID: 0000 Correlation ID: 1111",
        "error_codes": [int(description.split(":")[0].removeprefix("AADSTS"))],
    }


def serve(entra: Entra, issued: Issued) -> Callable[[], None]:
    """Start the HTTPS server on 127.0.0.1 (in a thread); returns `stop`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == f"/{TENANT}/v2.0/.well-known/openid-configuration":
                self._answer(200, entra.discovery())
            else:
                self._answer(400, _error("invalid_tenant", "AADSTS90002: Tenant not found."))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != f"/{TENANT}/oauth2/v2.0/token":
                self._answer(400, _error("invalid_request", "AADSTS90002: Tenant not found."))
                return
            self._answer(*entra.token(form))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = issued.server_context().wrap_socket(server.socket, server_side=True)
    entra.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
