"""OAuth2 for SMTP, for real: aiosmtpd on loopback offering AUTH XOAUTH2 (after STARTTLS, with a
test CA) and accepting only the tokens the test issues; a token command that is a real program;
and for Microsoft 365, msal talking HTTPS to a loopback token endpoint (tests/delivery/entra.py)."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from tests.delivery import entra
from tests.delivery.conftest import ISSUE, OAuthSink, Sink
from tests.delivery.pki import CertificateAuthority

from nyhetsbrev.delivery.oauth import CommandTokens, token_command_from_env
from nyhetsbrev.delivery.transport import SmtpSettings, SmtpTransport, TransportError
from nyhetsbrev.errors import DeliveryError

MESSAGE = b"From: a@politiet.no\r\nTo: b@example.no\r\nSubject: x\r\n\r\nbody\r\n"
USER = "kom@politiet.no"
SCRIPT = """\
import json, pathlib, sys
state = pathlib.Path(sys.argv[1])
data = json.loads(state.read_text())
with state.with_suffix(".runs").open("a") as runs:
    runs.write("run\\n")
if data.get("fail"):
    sys.stderr.write(data["fail"] + "\\n")
    sys.exit(3)
if data.get("expires_in") is not None:
    print(json.dumps({"access_token": data["token"], "expires_in": data["expires_in"]}))
else:
    print(data["token"])
"""


class TokenCommand:
    """A real token command (a Python script) whose output the test controls."""

    def __init__(self, folder: Path) -> None:
        self.script = folder / "token-command.py"
        self.script.write_text(SCRIPT)
        self.state = folder / "token.json"
        self.command = f"{sys.executable} {self.script} {self.state}"

    def prints(self, token: str, expires_in: int | None = None, fail: str | None = None) -> None:
        self.state.write_text(json.dumps({"token": token, "expires_in": expires_in, "fail": fail}))

    def runs(self) -> int:
        runs = self.state.with_suffix(".runs")
        return len(runs.read_text().splitlines()) if runs.exists() else 0


@pytest.fixture
def command(tmp_path: Path) -> TokenCommand:
    return TokenCommand(tmp_path)


@pytest.fixture
def oauth_sink(tls_sink: Callable[..., Sink]) -> OAuthSink:
    sink = tls_sink(OAuthSink(user=USER))
    assert isinstance(sink, OAuthSink)
    return sink


def xoauth2_env(sink: Sink, ca: CertificateAuthority, command: TokenCommand) -> dict[str, str]:
    return {
        "NYHETSBREV_SMTP_URL": f"smtp://kom%40politiet.no@127.0.0.1:{sink.port}",
        "NYHETSBREV_SMTP_AUTH": "xoauth2",
        "NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND": command.command,
        "NYHETSBREV_SMTP_CA_FILE": str(ca.ca_file),
    }


def send_all(transport: SmtpTransport, count: int) -> list[str]:
    return [
        transport.send("a@politiet.no", f"p{n}@example.no", MESSAGE).outcome for n in range(count)
    ]


def test_token_rotated_mid_send_and_421_finishes_with_a_fresh_token(
    oauth_sink: OAuthSink, ca: CertificateAuthority, command: TokenCommand
) -> None:
    command.prints(oauth_sink.issue("token-1"))

    def rotate(_: object) -> None:
        if oauth_sink.count() == 3:
            oauth_sink.revoke("token-1")
            command.prints(oauth_sink.issue("token-2"))
            oauth_sink.fault("mail", None, "421 4.7.0 Connection closed, token lifetime exceeded")

    oauth_sink.on_message = rotate
    settings = SmtpSettings.from_env(xoauth2_env(oauth_sink, ca, command))
    assert settings.login == f"OAuth2 (XOAUTH2) as {USER}, token from {Path(sys.executable).name}"
    with SmtpTransport(settings, backoff=0) as transport:
        assert send_all(transport, 6) == ["sent"] * 6
        assert transport.connections == 2
    assert oauth_sink.per_recipient() == {f"p{n}@example.no": 1 for n in range(6)}
    assert [ok for _, ok in oauth_sink.logins] == [True, False, True]  # old token, then a new one
    assert command.runs() == 2


def test_expired_token_is_fetched_again_on_reconnect(
    oauth_sink: OAuthSink, ca: CertificateAuthority, command: TokenCommand
) -> None:
    command.prints(oauth_sink.issue("short-lived"), expires_in=0)  # expired as soon as printed
    oauth_sink.fault("mail", None, "421 4.4.2 Timeout, closing", times=2)
    with SmtpTransport(SmtpSettings.from_env(xoauth2_env(oauth_sink, ca, command))) as transport:
        assert send_all(transport, 2) == ["sent", "sent"]
        assert transport.connections == 3
    assert command.runs() == 3 and oauth_sink.refused() == 0
    assert oauth_sink.per_recipient() == {"p0@example.no": 1, "p1@example.no": 1}


def test_a_refused_token_is_tried_once_more_then_an_error(
    oauth_sink: OAuthSink, ca: CertificateAuthority, command: TokenCommand
) -> None:
    command.prints("not-a-token-the-server-issued")
    with pytest.raises(TransportError) as caught:
        SmtpTransport(SmtpSettings.from_env(xoauth2_env(oauth_sink, ca, command))).open()
    assert caught.value.message == (
        f"smtp://kom@politiet.no@127.0.0.1:{oauth_sink.port} refused the OAuth token for "
        f"{USER}, a fresh one too: 535 5.7.3 Authentication unsuccessful (the server said: "
        "status=401, schemes=bearer, scope=https://outlook.office365.com/.default) — check that "
        "NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND prints a token for that user with the scope for SMTP "
        "(Microsoft: https://outlook.office365.com/.default, Google: https://mail.google.com/)"
    )
    assert command.runs() == 2 and oauth_sink.refused() == 2


def test_failing_token_command_never_shows_the_token(tmp_path: Path) -> None:
    folder = TokenCommand(tmp_path)
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJl"
    folder.prints("secret-token-value", fail=f"az: session expired, last token {jwt_like}")
    tokens = CommandTokens(
        token_command_from_env({"NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND": folder.command})
    )
    with pytest.raises(DeliveryError) as caught:
        tokens.token()
    assert caught.value.message == (
        f"NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND ({Path(sys.executable).name}) failed with exit "
        "code 3: az: session expired, last token *** — run it yourself to see why (e.g. log in "
        "again)"
    )
    missing = {"NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND": "nope-token-helper --scope x"}
    with pytest.raises(DeliveryError) as caught:
        CommandTokens(token_command_from_env(missing)).token()
    assert caught.value.message == (
        "NYHETSBREV_SMTP_OAUTH_TOKEN_COMMAND: the program nope-token-helper is not found — give "
        "its full path"
    )


@pytest.mark.parametrize(
    ("printed", "token", "expires"),
    [
        ("abc.def", "abc.def", None),
        (json.dumps({"accessToken": "t1", "expires_on": 1900000000}), "t1", 1900000000.0),
        (json.dumps({"access_token": "t2", "expires_in": 60}), "t2", 1000060.0),
        (
            "eyJhbGciOiJub25lIn0."
            + base64.urlsafe_b64encode(b'{"exp": 1800000000}').decode().rstrip("=")
            + ".",
            None,
            1800000000.0,
        ),
    ],
)
def test_token_output_forms(printed: str, token: str | None, expires: float | None) -> None:
    from nyhetsbrev.delivery.oauth import _parse_output

    got = _parse_output(printed, 1000000.0)
    assert got == (token or printed, expires)


def test_server_without_xoauth2(
    tls_sink: Callable[..., Sink], ca: CertificateAuthority, command: TokenCommand
) -> None:
    sink = tls_sink(Sink())
    command.prints("t")
    with pytest.raises(TransportError) as caught:
        SmtpTransport(SmtpSettings.from_env(xoauth2_env(sink, ca, command))).open()
    assert caught.value.message.startswith(
        f"smtp://kom@politiet.no@127.0.0.1:{sink.port} does not offer AUTH XOAUTH2 (it offers: "
        "LOGIN PLAIN) — for Microsoft 365 use smtp://…@smtp.office365.com:587"
    )


class BasicAuthOff:
    """Exchange Online with Basic authentication turned off for SMTP AUTH."""

    def __call__(self, *args: Any) -> AuthResult:
        return AuthResult(
            success=False,
            handled=False,
            message="550 5.7.30 Basic authentication is not supported for Client Submission.",
        )


def test_basic_auth_turned_off_is_explained(
    tls_sink: Callable[..., Sink], ca: CertificateAuthority
) -> None:
    sink = tls_sink(Sink(), authenticator=BasicAuthOff())
    settings = SmtpSettings.parse(f"smtp://kom@127.0.0.1:{sink.port}", "pw", ca_file=ca.ca_file)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(settings).open()
    assert caught.value.message == (
        f"smtp://kom@127.0.0.1:{sink.port} no longer takes passwords: 550 5.7.30 Basic "
        "authentication is not supported for Client Submission. — Microsoft 365 has turned off "
        "Basic authentication for SMTP: log in as an app with NYHETSBREV_SMTP_AUTH=m365 "
        "(docs/operations.md, Microsoft 365)"
    )


# ---- Microsoft 365: msal against the loopback token endpoint -----------------------------------


@pytest.fixture
def endpoint(ca: CertificateAuthority, oauth_sink: OAuthSink) -> Iterator[entra.Entra]:
    state = entra.Entra(on_token=oauth_sink.issue)
    stop = entra.serve(state, ca.issue("entra", ["127.0.0.1"]))
    yield state
    stop()


@pytest.fixture
def app_certificate(ca: CertificateAuthority) -> Path:
    return ca.issue("app", ["nyhetsbrev-app"], client=True).pem


def m365_env(
    sink: Sink, ca: CertificateAuthority, endpoint: entra.Entra, **more: str
) -> dict[str, str]:
    return {
        "NYHETSBREV_SMTP_URL": f"smtp://kom%40politiet.no@127.0.0.1:{sink.port}",
        "NYHETSBREV_SMTP_AUTH": "m365",
        "NYHETSBREV_M365_TENANT_ID": entra.TENANT,
        "NYHETSBREV_M365_CLIENT_ID": entra.CLIENT,
        "NYHETSBREV_M365_AUTHORITY": endpoint.authority,
        "NYHETSBREV_SMTP_CA_FILE": str(ca.ca_file),
        **more,
    }


def test_m365_with_a_client_certificate(
    oauth_sink: OAuthSink, ca: CertificateAuthority, endpoint: entra.Entra, app_certificate: Path
) -> None:
    from cryptography import x509

    endpoint.certificate = x509.load_pem_x509_certificate(app_certificate.read_bytes())
    env = m365_env(
        oauth_sink, ca, endpoint, NYHETSBREV_M365_CLIENT_CERTIFICATE=str(app_certificate)
    )
    settings = SmtpSettings.from_env(env)
    assert settings.login == (
        f"Microsoft 365 (XOAUTH2) as {USER}, app {entra.CLIENT} in tenant {entra.TENANT} "
        "(certificate app.pem)"
    )
    with SmtpTransport(settings, backoff=0) as transport:
        assert send_all(transport, 3) == ["sent"] * 3
    [(header, claims)] = endpoint.assertions  # one token for the whole connection
    assert header["alg"] == "PS256" and "x5t#S256" in header
    assert claims["aud"] == endpoint.token_endpoint and claims["iss"] == entra.CLIENT
    assert endpoint.requests[0]["scope"] == "https://outlook.office365.com/.default"
    assert oauth_sink.per_recipient() == {f"p{n}@example.no": 1 for n in range(3)}


def test_m365_with_a_secret_renews_a_refused_token(
    oauth_sink: OAuthSink, ca: CertificateAuthority, endpoint: entra.Entra
) -> None:
    endpoint.secret = "client-secret-value"
    env = m365_env(oauth_sink, ca, endpoint, NYHETSBREV_M365_CLIENT_SECRET="client-secret-value")

    def revoke_all(_: object) -> None:
        if oauth_sink.count() == 2:
            oauth_sink.revoke()  # the tenant revoked the token: the cached one is refused
            oauth_sink.fault("mail", None, "421 4.7.0 closing")

    oauth_sink.on_message = revoke_all
    with SmtpTransport(SmtpSettings.from_env(env), backoff=0) as transport:
        assert send_all(transport, 4) == ["sent"] * 4
    assert len(endpoint.requests) == 2 and oauth_sink.refused() == 1
    assert "client-secret-value" not in repr(SmtpSettings.from_env(env))
    assert oauth_sink.per_recipient() == {f"p{n}@example.no": 1 for n in range(4)}


def test_m365_token_near_expiry_is_renewed_before_use(
    oauth_sink: OAuthSink, ca: CertificateAuthority, endpoint: entra.Entra
) -> None:
    endpoint.secret, endpoint.expires_in = "s3cret", 120  # under msal's 5-minute margin
    oauth_sink.fault("mail", None, "421 4.7.0 closing")
    env = m365_env(oauth_sink, ca, endpoint, NYHETSBREV_M365_CLIENT_SECRET="s3cret")
    with SmtpTransport(SmtpSettings.from_env(env), backoff=0) as transport:
        assert send_all(transport, 1) == ["sent"]
    assert len(endpoint.requests) == 2 and oauth_sink.refused() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"NYHETSBREV_M365_CLIENT_SECRET": "wrong"},
            "Microsoft 365 refused the app's login: NYHETSBREV_M365_CLIENT_SECRET is wrong: use "
            "the secret's Value (shown once when it was made), not its Secret ID (AADSTS7000215: "
            "Invalid client secret provided. Trace ID: 0000 Correlation ID: 1111)",
        ),
        (
            {"NYHETSBREV_M365_CLIENT_ID": "ffffffff-0000-0000-0000-000000000000"},
            "Microsoft 365 refused the app's login: NYHETSBREV_M365_CLIENT_ID="
            f"ffffffff-0000-0000-0000-000000000000 is not an app of tenant {entra.TENANT}: copy "
            "the Application (client) ID from the app registration's Overview page (AADSTS700016: "
            "Application with identifier was not found Trace ID: 0000 Correlation ID: 1111)",
        ),
        (
            {"NYHETSBREV_M365_TENANT_ID": "no-such-tenant"},
            "Microsoft Entra ID does not know the tenant no-such-tenant "
            "(NYHETSBREV_M365_TENANT_ID): copy the Directory (tenant) ID from the app "
            "registration's Overview page",
        ),
    ],
)
def test_m365_mistakes_are_explained(
    oauth_sink: OAuthSink,
    ca: CertificateAuthority,
    endpoint: entra.Entra,
    change: dict[str, str],
    message: str,
) -> None:
    endpoint.secret = "right"
    env = {**m365_env(oauth_sink, ca, endpoint, NYHETSBREV_M365_CLIENT_SECRET="right"), **change}
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(SmtpSettings.from_env(env)).open()
    assert caught.value.message == message
    assert "right" not in caught.value.message.replace("copyright", "")
    assert oauth_sink.count() == 0


def test_m365_settings_missing(tmp_path: Path) -> None:
    env = {
        "NYHETSBREV_SMTP_URL": "smtp://kom@smtp.office365.com:587",
        "NYHETSBREV_SMTP_AUTH": "m365",
    }
    with pytest.raises(DeliveryError) as caught:
        SmtpSettings.from_env(env)
    assert caught.value.message == (
        "NYHETSBREV_SMTP_AUTH=m365 needs NYHETSBREV_M365_TENANT_ID, NYHETSBREV_M365_CLIENT_ID, "
        "NYHETSBREV_M365_CLIENT_CERTIFICATE (preferred) or NYHETSBREV_M365_CLIENT_SECRET: the app "
        "registration's Directory (tenant) ID, Application (client) ID and its certificate or "
        "secret (docs/operations.md, Microsoft 365)"
    )
    half = tmp_path / "cert-only.pem"
    half.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    env |= {
        "NYHETSBREV_M365_TENANT_ID": "t",
        "NYHETSBREV_M365_CLIENT_ID": "c",
        "NYHETSBREV_M365_CLIENT_CERTIFICATE": str(half),
    }
    with pytest.raises(DeliveryError) as caught:
        SmtpSettings.from_env(env)
    assert caught.value.message == (
        f"NYHETSBREV_M365_CLIENT_CERTIFICATE={half}: the file has no private key: it must hold "
        "both the private key and the certificate, in PEM (e.g. cat key.pem cert.pem > app.pem)"
    )


# ---- through the CLI ------------------------------------------------------------------------


def test_cli_send_with_xoauth2_survives_rotation_and_pauses_on_refusal(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    monkeypatch: pytest.MonkeyPatch,
    oauth_sink: OAuthSink,
    ca: CertificateAuthority,
    command: TokenCommand,
) -> None:
    contacts(6)
    for name, value in xoauth2_env(oauth_sink, ca, command).items():
        monkeypatch.setenv(name, value)
    command.prints(oauth_sink.issue("first"))

    def trouble(_: object) -> None:
        if oauth_sink.count() == 2:  # a rotation the client cannot know about, then a 421
            oauth_sink.revoke()
            command.prints(oauth_sink.issue("second"))
            oauth_sink.fault("mail", None, "421 4.7.0 closing")
        if oauth_sink.count() == 4:  # the tenant stops accepting the app's tokens altogether
            oauth_sink.revoke()
            oauth_sink.fault("mail", None, "421 4.7.0 closing")

    oauth_sink.on_message = trouble
    dry = cli("send", ISSUE)
    assert f"Login:    OAuth2 (XOAUTH2) as {USER}, token from" in dry.output
    result = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate=0"
    )
    assert result.exit_code == 1
    assert "refused the OAuth token for kom@politiet.no, a fresh one too" in result.output
    resume = result.output.rsplit("To continue, run: ", 1)[1].strip()
    assert (
        resume
        == "nyhetsbrev send 2024-q4 --resume --rate=0 --allow-warnings --allow-placeholder-links"
    )
    assert "first" not in result.output and "second" not in result.output
    oauth_sink.on_message = None
    command.prints(oauth_sink.issue("third"))
    again = cli(*resume.split()[1:])
    assert again.exit_code == 0, again.output
    assert sorted(oauth_sink.per_recipient().values()) == [1] * 6


def test_cli_send_through_m365(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    monkeypatch: pytest.MonkeyPatch,
    oauth_sink: OAuthSink,
    ca: CertificateAuthority,
    endpoint: entra.Entra,
    app_certificate: Path,
) -> None:
    from cryptography import x509

    contacts(3)
    endpoint.certificate = x509.load_pem_x509_certificate(app_certificate.read_bytes())
    env = m365_env(
        oauth_sink, ca, endpoint, NYHETSBREV_M365_CLIENT_CERTIFICATE=str(app_certificate)
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate=0"
    )
    assert result.exit_code == 0, result.output
    assert sorted(oauth_sink.per_recipient().values()) == [1, 1, 1]
    assert "m365-token" not in result.output
