"""behalf's mail as an independent mail server receives it (docs/contract.md "Email").

- aiosmtpd, a real SMTP server, listens on a free loopback port; behalf runs
  with BEHALF_EMAIL_SMTP_URL=smtp://127.0.0.1:<port> (plain on loopback).
- bob (an agent of the Support team, with an address) asks alice (with an
  address) for access through the agent API with a token from the console's
  code flow (authlib); alice allows it on /account.
- Each mail is parsed with Python's `email` package: multipart/alternative
  with text/plain and text/html parts, From/To/Subject/Date/Message-ID
  present, a subject naming the agent, a link to <issuer>/account (bob's:
  <issuer>/console) with no query string, and nothing that looks like a JWT.
"""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit

import pytest
import requests
from aiosmtpd.controller import Controller
from authlib.integrations.requests_client import OAuth2Session

from conftest import free_port, start_server
from test_authlib import (
    CONSOLE_REDIRECT,
    USERS,
    add_client,
    bearer,
    browser,
    code_flow,
    find_form,
    location,
    show,
    sign_in,
)

ADDRESSES = {"alice": "alice@example.com", "bob": "bob@example.com"}
MAIL_WAIT_S = 15.0
JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")


class Inbox:
    """aiosmtpd handler: keeps every message it is given, as bytes."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def wait_for(self, count: int):
        deadline = time.monotonic() + MAIL_WAIT_S
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} mails arrived"
            time.sleep(0.05)
        return [BytesParser(policy=policy.default).parsebytes(raw) for _, _, raw in self.messages]


@pytest.fixture(scope="module")
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture(scope="module")
def server(inbox):
    controller, _ = inbox
    srv = start_server(
        "test_mail",
        extra_env={"BEHALF_EMAIL_SMTP_URL": f"smtp://127.0.0.1:{controller.port}", "BEHALF_LOG": "info"},
    )
    yield srv
    srv.stop("test_mail")


@pytest.fixture(scope="module")
def metadata(server) -> dict:
    res = requests.get(f"{server.issuer}/.well-known/openid-configuration", timeout=10)
    assert res.status_code == 200, show(res)
    return res.json()


@pytest.fixture(scope="module")
def people(server):
    for name, u in USERS.items():
        extra = ["--agent", "--team", "Support"] if u["agent"] else []
        server.cli("user", "add", name, *extra, "--email", ADDRESSES[name], "--password-stdin",
                   stdin=u["password"] + "\n")


@pytest.fixture(scope="module")
def mails(server, metadata, people, inbox):
    """bob asks, alice allows it: alice's two mails and bob's one, parsed."""
    _, handler = inbox
    secret = add_client(
        server.cli, "console", "--first-party", "--generate-secret", "--redirect-uri", CONSOLE_REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange",
        "--scope", "openid", "--scope", "agent", "--scope", "read",
    )
    console = OAuth2Session("console", secret, redirect_uri=CONSOLE_REDIRECT, scope="openid agent",
                            code_challenge_method="S256")
    bob_token, _, _ = code_flow(server, metadata, console, "bob", CONSOLE_REDIRECT)
    res = requests.post(
        f"{server.base_url}/api/access-requests",
        headers=bearer(bob_token["access_token"]),
        json={"subject": "alice", "scope": "read", "duration": 3600,
              "reason": "Checking a billing error you reported", "ticket": "SUP-1234"},
        timeout=10,
    )
    assert res.status_code == 201, show(res)
    asked = handler.wait_for(1)

    ua = browser()
    sign_in(ua, f"{server.base_url}/login?return_to=/account", "alice", USERS["alice"]["password"])
    page = ua.get(f"{server.base_url}/account")
    assert page.status_code == 200, show(page)
    assert f"We email you at {ADDRESSES['alice']} when someone asks for access" in page.text, page.text
    form = find_form(page.text, page.url, f"/account/requests/{res.json()['id']}/approve")
    assert form, page.text
    approved = ua.post(form["action"], data={"csrf_token": form["hidden"]["csrf_token"]})
    assert approved.status_code == 303 and urlsplit(location(approved)).path == "/account", show(approved)
    answered = handler.wait_for(3)
    return {
        "asked": asked[0],
        "alice": [m for m in answered if m["To"] == ADDRESSES["alice"]],
        "bob": [m for m in answered if m["To"] == ADDRESSES["bob"]],
        "all": answered,
        "tokens": [bob_token["access_token"], bob_token.get("id_token", ""), secret],
    }


def parts(message) -> tuple[str, str]:
    """The text/plain and text/html parts of a multipart/alternative message, decoded."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    found = {p.get_content_type(): p.get_content() for p in message.iter_parts()}
    assert set(found) == {"text/plain", "text/html"}, list(found)
    return found["text/plain"], found["text/html"]


def check_mail(message, server, page: str):
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert message[header], f"no {header} header:\n{message}"
    assert message["From"].addresses[0].addr_spec == "behalf@localhost", message["From"]
    text, html = parts(message)
    link = f"{server.issuer}{page}"
    assert link in text and f'href="{link}"' in html, f"no link to {link}:\n{text}"
    for body in (text, html, message.as_string()):
        assert f"{link}?" not in body, "the link carries a query string"
        assert not JWT_LIKE.search(body), f"something like a JWT: {JWT_LIKE.search(body).group(0)}"
    return text, html


def test_alice_is_asked_by_mail_naming_bob_his_team_why_and_for_how_long(server, mails):
    message = mails["asked"]
    assert message["To"] == ADDRESSES["alice"]
    assert message["Subject"] == "bob from Support asks to access your account"
    text, html = check_mail(message, server, "/account")
    for words in ("Checking a billing error you reported", "SUP-1234", "1 hour", "UTC"):
        assert words in text and words in html, f"{words!r} missing:\n{text}"


def test_alice_is_told_what_she_allowed_and_until_when(server, mails):
    allowed = [m for m in mails["alice"] if m["Subject"].startswith("You allowed bob ")]
    assert len(allowed) == 1, [m["Subject"] for m in mails["all"]]
    assert re.fullmatch(r"You allowed bob to access your account until (.+, )?\d\d:\d\d UTC", allowed[0]["Subject"])
    check_mail(allowed[0], server, "/account")


def test_bob_is_told_alice_allowed_his_request_and_sent_to_the_console(server, mails):
    assert [m["Subject"] for m in mails["bob"]] == ["alice allowed your request"]
    text, _ = check_mail(mails["bob"][0], server, "/console")
    assert "alice allowed your request to act in their account until" in text, text


def test_no_mail_carries_a_token_or_the_console_secret(mails):
    for message in mails["all"]:
        raw = message.as_string()
        for value in mails["tokens"]:
            if value:
                assert value not in raw, "a token or secret is in a mail"


def test_each_mail_has_its_own_message_id(mails):
    ids = [m["Message-ID"] for m in mails["all"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", i) for i in ids), ids
