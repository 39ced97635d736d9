"""behalf driven by Python's authlib, a second client family next to the node
suite's openid-client.

- authlib's requests `OAuth2Session` is the OAuth client: client credentials
  (client_secret_basic and client_secret_post), the authorization code grant
  with PKCE (S256), refresh, token exchange (RFC 8693), introspection
  (RFC 7662) and revocation (RFC 7009); errors surface as authlib's
  `OAuthError`.
- Token checks go through authlib the way authlib 1.9 does them itself: the
  JWS is verified with joserfc (authlib's JOSE backend since 1.7; the legacy
  `authlib.jose` module is deprecated) against the published JWKS, then the
  claims are validated with authlib's classes: `CodeIDToken` (iss, aud,
  nonce, azp, at_hash) for ID tokens, exactly as authlib's OIDC client does,
  and `JWTBearerTokenValidator` (RFC 9068) for access tokens, as an authlib
  resource server would.
- A `requests.Session` with redirects off plays the user agent on the HTML
  pages (/login, /account), with its own cookie jar.

One server for the module (conftest.py); users and clients are registered
with the behalf CLI.
"""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from authlib.oauth2.rfc6750.errors import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import InvalidClaimError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_ID_TYPE = "urn:behalf:params:oauth:token-type:grant_id"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
API = "https://api.example.test"
RP_REDIRECT = "http://127.0.0.1:9/cb"
CONSOLE_REDIRECT = "http://127.0.0.1:9/console-cb"
USERS = {
    "alice": {"password": "alice-password-1", "agent": False},
    "bob": {"password": "bob-password-1", "agent": True},
}
CLOCK_SLACK_S = 60


# --------------------------------------------------------------------------
# Small helpers: HTML forms, the user agent, responses in messages


class _FormParser(HTMLParser):
    """Collects <form>s with their inputs (HTML is only read well enough for forms)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "hidden": {},
                "inputs": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and "name" in a:
            kind = a.get("type", "text").lower()
            self._form["inputs"].append({"name": a["name"], "type": kind, "value": a.get("value", "")})
            if kind == "hidden":
                self._form["hidden"].setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def find_form(html: str, page_url: str, path: str) -> dict | None:
    """The form whose action resolves to `path` on the page's origin, with an absolute action URL."""
    parser = _FormParser()
    parser.feed(html)
    origin = urlsplit(page_url)[:2]
    for form in parser.forms:
        action = urljoin(page_url, form["action"] or page_url)
        parts = urlsplit(action)
        if parts[:2] == origin and parts.path == path:
            return {**form, "action": action}
    return None


def show(res: requests.Response) -> str:
    """A short description of a response for assertion messages."""
    loc = res.headers.get("location")
    body = res.text if len(res.text) <= 600 else res.text[:600] + "…"
    www = res.headers.get("www-authenticate")
    return (
        f"{res.request.method} {urlsplit(res.url).path} → {res.status_code}"
        + (f" Location: {loc}" if loc else "")
        + (f" WWW-Authenticate: {www}" if www else "")
        + f"\n{body}"
    )


def location(res: requests.Response) -> str:
    loc = res.headers.get("location")
    assert loc, f"no Location header: {show(res)}"
    return urljoin(res.url, loc)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


class Browser(requests.Session):
    """A user agent that never follows redirects on its own (every hop is asserted)."""

    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, **kwargs)


def browser() -> requests.Session:
    return Browser()


def sign_in(ua: requests.Session, login_url: str, username: str, password: str) -> requests.Response:
    """GET the login page, POST its form with the user's credentials; returns the POST's 303."""
    page = ua.get(login_url, allow_redirects=False)
    assert page.status_code == 200, f"GET login page: {show(page)}"
    form = find_form(page.text, page.url, "/login")
    assert form, f"no <form action=/login>: {show(page)}"
    assert form["method"] == "post", "login form method"
    assert form["hidden"].get("csrf_token"), f"login form without csrf_token: {form}"
    assert "return_to" in form["hidden"], f"login form without return_to: {form}"
    post = ua.post(
        form["action"],
        data={**form["hidden"], "username": username, "password": password},
        allow_redirects=False,
    )
    assert post.status_code == 303, f"POST /login as {username}: {show(post)}"
    return post


def capture_responses(session: OAuth2Session) -> list[requests.Response]:
    """Records every token endpoint response authlib parses (compliance hooks)."""
    seen: list[requests.Response] = []

    def hook(resp):
        seen.append(resp)
        return resp

    session.register_compliance_hook("access_token_response", hook)
    session.register_compliance_hook("refresh_token_response", hook)
    return seen


def scope_set(scope) -> set[str]:
    if isinstance(scope, (list, tuple)):
        return set(scope)
    return set(str(scope or "").split())


# --------------------------------------------------------------------------
# Fixtures: discovery, keys, users, clients


@pytest.fixture(scope="module")
def metadata(server) -> dict:
    res = requests.get(f"{server.issuer}/.well-known/openid-configuration", timeout=10)
    assert res.status_code == 200, show(res)
    return res.json()


@pytest.fixture(scope="module")
def jwks(metadata) -> KeySet:
    res = requests.get(metadata["jwks_uri"], timeout=10)
    assert res.status_code == 200, show(res)
    return KeySet.import_key_set(res.json())


@pytest.fixture(scope="module")
def subs(cli) -> dict[str, str]:
    """alice (a user) and bob (an agent), registered with `behalf user add`; name → sub."""
    out = {}
    for name, u in USERS.items():
        printed = cli("user", "add", name, *(["--agent"] if u["agent"] else []), "--password-stdin",
                      stdin=u["password"] + "\n")
        assert printed.strip() and "\n" not in printed.strip(), f"user add {name} must print the sub alone: {printed!r}"
        out[name] = printed.strip()
    return out


def add_client(cli, client_id: str, *args: str) -> str:
    """`behalf client add CLIENT_ID ARGS...`; returns the printed client_secret."""
    out = cli("client", "add", client_id, *args)
    try:
        registered = json.loads(out)
    except ValueError:
        pytest.fail(f"behalf client add {client_id} did not print JSON: {out!r}")
    assert registered.get("client_id") == client_id, registered
    assert isinstance(registered.get("client_secret"), str) and registered["client_secret"], registered
    return registered["client_secret"]


@pytest.fixture(scope="module")
def svc_secret(cli) -> str:
    return add_client(cli, "svc", "--generate-secret", "--scope", "read", "--audience", API)


@pytest.fixture(scope="module")
def rp_secret(cli) -> str:
    return add_client(
        cli, "rp", "--first-party", "--generate-secret", "--redirect-uri", RP_REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
        "--scope", "openid", "--scope", "profile",
    )


@pytest.fixture(scope="module")
def console_secret(cli) -> str:
    return add_client(
        cli, "console", "--first-party", "--generate-secret", "--redirect-uri", CONSOLE_REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", TOKEN_EXCHANGE,
        "--scope", "openid", "--scope", "agent", "--scope", "read", "--scope", "write",
        "--name", "Support console",
    )


@pytest.fixture(scope="module")
def rs_secret(cli) -> str:
    """A confidential resource-server client that only introspects."""
    return add_client(cli, "rs", "--generate-secret")


class AccessTokenValidator(JWTBearerTokenValidator):
    """authlib's RFC 9068 resource-server validator, fed the server's JWKS."""

    def __init__(self, issuer, resource_server, keys: KeySet):
        super().__init__(issuer, resource_server)
        self._keys = keys

    def get_jwks(self):
        return self._keys


def verify_access_token(token: str, *, issuer: str, jwks: KeySet, audience: str, scopes=None):
    """Verifies an access token as an authlib resource server would; returns the claims.

    The header is checked first (RFC 9068 §2.1: typ at+jwt; behalf signs
    access tokens with ES256), then authlib's JWTBearerTokenValidator checks
    the signature against the JWKS and iss, aud, exp, sub, client_id, iat,
    jti (and scope when `scopes` is given).
    """
    decoded = jwt.decode(token, jwks, registry=JWSRegistry(algorithms=["ES256"]))
    assert decoded.header.get("typ") == "at+jwt", f"typ header: {decoded.header}"
    assert decoded.header.get("alg") == "ES256", f"alg header: {decoded.header}"
    assert decoded.header.get("kid"), f"kid header: {decoded.header}"
    validator = AccessTokenValidator(issuer, audience, jwks)
    claims = validator.authenticate_token(token)
    validator.validate_token(claims, scopes, None)
    return dict(claims)


def validate_id_token(id_token: str, *, issuer: str, client_id: str, jwks: KeySet, algs, nonce, access_token):
    """What authlib's OIDC client does in parse_id_token: joserfc decode, then CodeIDToken.validate."""
    decoded = jwt.decode(id_token, jwks, registry=JWSRegistry(algorithms=algs, strict_check_header=False))
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate(leeway=CLOCK_SLACK_S)
    return claims


def code_flow(server, metadata, session: OAuth2Session, username: str, redirect_uri: str):
    """Authorization code + PKCE through the HTML pages for a first-party client.

    Returns (token, nonce, callback_url); `session` holds the token afterwards.
    """
    verifier = generate_token(64)
    nonce = generate_token(24)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    q = query(url)
    assert q.get("code_challenge_method") == "S256" and q.get("code_challenge"), url

    ua = browser()
    first = ua.get(url, allow_redirects=False)
    assert first.status_code == 303, f"GET /authorize without a session: {show(first)}"
    login_url = location(first)
    assert urlsplit(login_url).path == "/login", f"expected a redirect to /login: {show(first)}"
    assert "return_to" in query(login_url), login_url

    post = sign_in(ua, login_url, username, USERS[username]["password"])
    back = ua.get(location(post), allow_redirects=False)
    assert back.status_code == 303, f"after login, /authorize (first-party: no consent): {show(back)}"
    callback = location(back)
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == redirect_uri, f"Location: {callback}"
    params = query(callback)
    assert "error" not in params, f"authorization error: {callback}"
    assert params.get("code"), callback
    assert params.get("state") == state, f"state: {callback}"
    assert params.get("iss") == server.issuer, f"RFC 9207 iss: {callback}"

    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
    )
    return token, nonce, callback


# --------------------------------------------------------------------------
# 1. Discovery


def test_discovery_document(server, metadata, monkeypatch):
    """OIDC Discovery: the issuer is ours and every endpoint the client needs is advertised."""
    assert metadata["issuer"] == server.issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks.json"),
        ("introspection_endpoint", None),
        ("revocation_endpoint", None),
    ]:
        value = metadata.get(name)
        assert isinstance(value, str) and value, f"{name} missing: {metadata}"
        assert value.startswith(server.issuer + "/"), f"{name} is not on the issuer: {value}"
        if path:
            assert urlsplit(value).path == path, f"{name}: {value}"
    assert "S256" in metadata.get("code_challenge_methods_supported", [])
    assert {"authorization_code", "refresh_token", "client_credentials", TOKEN_EXCHANGE} <= set(
        metadata.get("grant_types_supported", [])
    )
    # authlib's own metadata validators (http is allowed only for this local test).
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    OpenIDProviderMetadata(metadata).validate()


def test_oauth_metadata_agrees(server, metadata, monkeypatch):
    """RFC 8414 metadata: valid for authlib and the same endpoints as OIDC Discovery."""
    res = requests.get(f"{server.issuer}/.well-known/oauth-authorization-server", timeout=10)
    assert res.status_code == 200, show(res)
    oauth = res.json()
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    AuthorizationServerMetadata(oauth).validate()
    for name in ("issuer", "token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"):
        assert oauth.get(name) == metadata.get(name), name


# --------------------------------------------------------------------------
# 2. Client credentials


def test_client_credentials_basic(server, metadata, jwks, svc_secret):
    session = OAuth2Session("svc", svc_secret, scope="read")
    assert session.token_endpoint_auth_method == "client_secret_basic"
    seen = capture_responses(session)
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")

    sent = seen[-1].request
    assert sent.headers.get("Authorization", "").startswith("Basic "), "authlib used client_secret_basic"
    assert seen[-1].status_code == 200
    assert "no-store" in seen[-1].headers.get("Cache-Control", ""), "RFC 6749 §5.1 Cache-Control: no-store"

    assert isinstance(token["access_token"], str) and token["access_token"]
    assert token["token_type"].lower() == "bearer"
    assert isinstance(token.get("expires_in"), int) and token["expires_in"] > 0, token
    assert scope_set(token.get("scope")) == {"read"}, token
    assert "refresh_token" not in token, "no refresh token for client_credentials (RFC 6749 §4.4.3)"

    claims = verify_access_token(
        token["access_token"], issuer=server.issuer, jwks=jwks, audience=server.issuer, scopes=["read"]
    )
    assert claims["iss"] == server.issuer
    assert claims["aud"] == server.issuer or claims["aud"] == [server.issuer], f"aud: {claims['aud']}"
    assert claims["sub"] == "svc"
    assert claims["client_id"] == "svc"
    assert scope_set(claims.get("scope")) == {"read"}
    now = time.time()
    assert claims["iat"] <= now + CLOCK_SLACK_S and claims["exp"] > now, claims

    # The resource-server checks bite: another audience or a scope the token lacks is refused.
    with pytest.raises(InvalidTokenError):
        verify_access_token(token["access_token"], issuer=server.issuer, jwks=jwks, audience=API)
    with pytest.raises(InvalidTokenError):
        verify_access_token(token["access_token"], issuer=API, jwks=jwks, audience=server.issuer)
    with pytest.raises(InsufficientScopeError):
        verify_access_token(token["access_token"], issuer=server.issuer, jwks=jwks, audience=server.issuer,
                            scopes=["write"])


def test_client_credentials_post(server, metadata, jwks, svc_secret):
    session = OAuth2Session("svc", svc_secret, scope="read", token_endpoint_auth_method="client_secret_post")
    seen = capture_responses(session)
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")

    sent = seen[-1].request
    assert "Authorization" not in sent.headers, "client_secret_post sends no Authorization header"
    body = parse_qs(sent.body if isinstance(sent.body, str) else sent.body.decode())
    assert body.get("client_id") == ["svc"] and body.get("client_secret") == [svc_secret], body
    assert token["token_type"].lower() == "bearer"
    claims = verify_access_token(
        token["access_token"], issuer=server.issuer, jwks=jwks, audience=server.issuer, scopes=["read"]
    )
    assert claims["sub"] == "svc"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_wrong_secret(metadata, svc_secret, method):
    session = OAuth2Session("svc", svc_secret + "x", scope="read", token_endpoint_auth_method=method)
    seen = capture_responses(session)
    with pytest.raises(OAuthError) as raised:
        session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert raised.value.error == "invalid_client", f"{raised.value.error}: {raised.value.description}"
    assert seen[-1].status_code in (400, 401), show(seen[-1])
    if method == "client_secret_basic":
        # RFC 6749 §5.2: a client that authenticated with Authorization gets 401 and a challenge.
        assert seen[-1].status_code == 401, show(seen[-1])
        assert seen[-1].headers.get("WWW-Authenticate", "").lower().startswith("basic"), show(seen[-1])
    assert session.token is None, "authlib keeps no token after an error"


# --------------------------------------------------------------------------
# 3. Authorization code + PKCE, ID token, UserInfo, refresh


@pytest.fixture(scope="module")
def rp_login(server, metadata, subs, rp_secret):
    """alice signs in to the first-party rp; authlib redeems the code."""
    session = OAuth2Session(
        "rp", rp_secret, redirect_uri=RP_REDIRECT, scope="openid profile", code_challenge_method="S256"
    )
    token, nonce, callback = code_flow(server, metadata, session, "alice", RP_REDIRECT)
    return {"session": session, "token": dict(token), "nonce": nonce, "callback": callback}


def test_code_flow_token_response(rp_login):
    token = rp_login["token"]
    assert token["token_type"].lower() == "bearer"
    for name in ("access_token", "id_token", "refresh_token"):
        assert isinstance(token.get(name), str) and token[name], f"{name} missing: {sorted(token)}"
    assert isinstance(token.get("expires_in"), int) and token["expires_in"] > 0
    assert scope_set(token.get("scope", "openid profile")) == {"openid", "profile"}, token.get("scope")


def test_code_flow_authlib_checks_state(server, metadata, rp_secret, rp_login):
    """authlib refuses an authorization response whose state is not the one it sent."""
    session = OAuth2Session("rp", rp_secret, redirect_uri=RP_REDIRECT, scope="openid profile")
    with pytest.raises(MismatchingStateException):
        session.fetch_token(
            metadata["token_endpoint"], authorization_response=rp_login["callback"],
            code_verifier="x" * 43, state="not-the-state",
        )


def test_id_token(server, metadata, jwks, subs, rp_login):
    token = rp_login["token"]
    algs = metadata["id_token_signing_alg_values_supported"]
    claims = validate_id_token(
        token["id_token"], issuer=server.issuer, client_id="rp", jwks=jwks, algs=algs,
        nonce=rp_login["nonce"], access_token=token["access_token"],
    )
    assert claims.header["alg"] in algs
    assert claims["sub"] == subs["alice"]
    assert claims["nonce"] == rp_login["nonce"]
    assert claims["aud"] in ("rp", ["rp"]), claims["aud"]
    assert "at_hash" in claims, "at_hash is present, so CodeIDToken checked it against the access token"
    assert isinstance(claims.get("auth_time"), int), claims

    # The checks bite: another nonce or another access token is refused.
    with pytest.raises(InvalidClaimError):
        validate_id_token(token["id_token"], issuer=server.issuer, client_id="rp", jwks=jwks, algs=algs,
                          nonce="another-nonce", access_token=token["access_token"])
    with pytest.raises(InvalidClaimError):
        validate_id_token(token["id_token"], issuer=server.issuer, client_id="rp", jwks=jwks, algs=algs,
                          nonce=rp_login["nonce"], access_token=token["access_token"] + "x")
    with pytest.raises(JoseError):
        validate_id_token(token["id_token"], issuer=server.issuer, client_id="someone-else", jwks=jwks,
                          algs=algs, nonce=rp_login["nonce"], access_token=token["access_token"])


def test_code_flow_access_token(server, jwks, subs, rp_login):
    claims = verify_access_token(
        rp_login["token"]["access_token"], issuer=server.issuer, jwks=jwks, audience=server.issuer,
        scopes=["openid"],
    )
    assert claims["sub"] == subs["alice"]
    assert claims["client_id"] == "rp"
    assert scope_set(claims.get("scope")) == {"openid", "profile"}


def test_userinfo(metadata, subs, rp_login):
    res = rp_login["session"].get(metadata["userinfo_endpoint"])
    assert res.status_code == 200, show(res)
    assert res.request.headers.get("Authorization", "").startswith("Bearer "), "authlib sent the bearer token"
    info = res.json()
    assert info["sub"] == subs["alice"], info
    assert info["preferred_username"] == "alice", info


def test_refresh_rotates_and_replay_is_refused(server, metadata, subs, rp_secret):
    # A login of its own: replaying ends the whole token family, which must not touch rp_login.
    session = OAuth2Session(
        "rp", rp_secret, redirect_uri=RP_REDIRECT, scope="openid profile", code_challenge_method="S256"
    )
    code_flow(server, metadata, session, "alice", RP_REDIRECT)
    old = session.token["refresh_token"]
    old_access = session.token["access_token"]
    new = session.refresh_token(metadata["token_endpoint"])
    assert isinstance(new.get("access_token"), str) and new["access_token"] != old_access
    assert isinstance(new.get("refresh_token"), str) and new["refresh_token"], f"no refresh token: {sorted(new)}"
    assert new["refresh_token"] != old, "refresh tokens rotate"
    assert new["token_type"].lower() == "bearer"

    replay = OAuth2Session("rp", rp_secret, scope="openid profile")
    with pytest.raises(OAuthError) as raised:
        replay.refresh_token(metadata["token_endpoint"], refresh_token=old)
    assert raised.value.error == "invalid_grant", f"{raised.value.error}: {raised.value.description}"

    # Replay detection revokes the whole family (RFC 9700 §4.14.2): the newest token is dead too.
    with pytest.raises(OAuthError) as raised:
        replay.refresh_token(metadata["token_endpoint"], refresh_token=new["refresh_token"])
    assert raised.value.error == "invalid_grant", f"{raised.value.error}: {raised.value.description}"


# --------------------------------------------------------------------------
# 4. Token exchange (delegated access), introspection, revocation


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


@pytest.fixture(scope="module")
def delegation(server, metadata, subs, console_secret):
    """bob (agent) asks alice for `read write`; alice approves on /account; returns the grant and bob's token."""
    console = OAuth2Session(
        "console", console_secret, redirect_uri=CONSOLE_REDIRECT, scope="openid agent", code_challenge_method="S256"
    )
    bob_token, _, _ = code_flow(server, metadata, console, "bob", CONSOLE_REDIRECT)
    assert "agent" in scope_set(bob_token.get("scope", "openid agent")), bob_token.get("scope")
    bob_access = bob_token["access_token"]

    res = requests.post(
        f"{server.base_url}/api/access-requests",
        headers=bearer(bob_access),
        json={"subject": "alice", "scope": "read write", "duration": 3600, "reason": "r", "ticket": "t"},
        allow_redirects=False,
        timeout=10,
    )
    assert res.status_code == 201, show(res)
    request_id = res.json()["id"]
    assert res.json()["status"] == "pending", show(res)

    ua = browser()
    post = sign_in(ua, f"{server.base_url}/login?return_to=/account", "alice", USERS["alice"]["password"])
    assert urlsplit(location(post)).path == "/account", show(post)
    page = ua.get(f"{server.base_url}/account", allow_redirects=False)
    assert page.status_code == 200, show(page)
    approve_path = f"/account/requests/{request_id}/approve"
    form = find_form(page.text, page.url, approve_path)
    assert form, f"/account has no <form action={approve_path}>:\n{page.text}"
    csrf = form["hidden"].get("csrf_token")
    assert csrf, f"approve form without csrf_token: {form}"
    approved = ua.post(form["action"], data={"csrf_token": csrf}, allow_redirects=False)
    assert approved.status_code == 303, show(approved)
    assert urlsplit(location(approved)).path == "/account", show(approved)

    res = requests.get(f"{server.base_url}/api/access-requests/{request_id}", headers=bearer(bob_access), timeout=10)
    assert res.status_code == 200, show(res)
    r = res.json()
    assert r["status"] == "approved", show(res)
    assert r.get("grant_status") == "active", show(res)
    assert isinstance(r.get("grant_id"), str) and r["grant_id"], show(res)
    return {"grant_id": r["grant_id"], "bob_access": bob_access}


def exchange(metadata, console_secret, delegation, **extra):
    session = OAuth2Session("console", console_secret)
    seen = capture_responses(session)
    token = session.fetch_token(
        metadata["token_endpoint"],
        grant_type=TOKEN_EXCHANGE,
        subject_token=delegation["grant_id"],
        subject_token_type=GRANT_ID_TYPE,
        actor_token=delegation["bob_access"],
        actor_token_type=ACCESS_TOKEN_TYPE,
        **extra,
    )
    return session, token, seen[-1]


@pytest.fixture(scope="module")
def exchanged(metadata, console_secret, delegation):
    session, token, resp = exchange(metadata, console_secret, delegation, scope="read")
    return {"session": session, "token": dict(token), "response": resp}


def test_token_exchange_response(exchanged):
    token, resp = exchanged["token"], exchanged["response"]
    assert resp.status_code == 200, show(resp)
    assert "no-store" in resp.headers.get("Cache-Control", ""), "RFC 6749 §5.1 Cache-Control: no-store"
    assert isinstance(token.get("access_token"), str) and token["access_token"]
    assert token.get("issued_token_type") == ACCESS_TOKEN_TYPE, f"RFC 8693 §2.2.1 issued_token_type: {token}"
    assert token["token_type"].lower() == "bearer"
    assert isinstance(token.get("expires_in"), int) and 0 < token["expires_in"] <= 3600, token
    assert scope_set(token.get("scope", "read")) == {"read"}, token


def test_token_exchange_jwt(server, jwks, subs, delegation, exchanged):
    claims = verify_access_token(
        exchanged["token"]["access_token"], issuer=server.issuer, jwks=jwks, audience=server.issuer, scopes=["read"]
    )
    assert claims["sub"] == subs["alice"], "the delegated token speaks for alice"
    assert isinstance(claims.get("act"), dict) and claims["act"].get("sub") == subs["bob"], f"act: {claims.get('act')}"
    assert claims.get("grant_id") == delegation["grant_id"], claims
    assert claims["client_id"] == "console"
    assert scope_set(claims.get("scope")) == {"read"}


def test_token_exchange_scope_outside_grant_is_refused(metadata, console_secret, delegation):
    """alice granted `read write`; a token for `agent` is not covered (RFC 6749 §5.2 invalid_scope)."""
    with pytest.raises(OAuthError) as raised:
        exchange(metadata, console_secret, delegation, scope="agent")
    assert raised.value.error == "invalid_scope", f"{raised.value.error}: {raised.value.description}"


def test_introspection_and_revocation(metadata, subs, delegation, exchanged, rs_secret):
    access = exchanged["token"]["access_token"]
    rs = OAuth2Session("rs", rs_secret)
    res = rs.introspect_token(metadata["introspection_endpoint"], token=access)
    assert res.status_code == 200, show(res)
    assert res.request.headers.get("Authorization", "").startswith("Basic "), "rs authenticated (client_secret_basic)"
    info = res.json()
    assert info.get("active") is True, info
    assert info.get("sub") == subs["alice"], info
    assert isinstance(info.get("act"), dict) and info["act"].get("sub") == subs["bob"], f"act: {info}"
    assert info.get("client_id") == "console", info
    assert scope_set(info.get("scope")) == {"read"}, info

    console = exchanged["session"]
    revoked = console.revoke_token(metadata["revocation_endpoint"], token=access)
    assert revoked.status_code == 200, show(revoked)

    res = rs.introspect_token(metadata["introspection_endpoint"], token=access)
    assert res.status_code == 200, show(res)
    assert res.json() == {"active": False}, f"RFC 7662 §2.2 after revocation: {res.text}"


def test_introspection_needs_client_authentication(metadata, exchanged, rs_secret):
    rs = OAuth2Session("rs", rs_secret + "x")
    res = rs.introspect_token(metadata["introspection_endpoint"], token=exchanged["token"]["access_token"])
    assert res.status_code == 401, show(res)
    assert res.json().get("error") == "invalid_client", show(res)
