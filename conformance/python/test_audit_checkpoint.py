"""Audit checkpoints as an outside auditor keeps them (docs/contract.md "Audit
checkpoints"; docs/security.md N6).

bob ends the grant alice gave him; a checkpoint of the audit trail is made at
the ending. The auditor fetches it from GET /audit/checkpoint as a client,
verifies it with joserfc against /jwks.json (ES256, typ audit-checkpoint+jwt,
iss), and keeps it. Then someone with write access to the database deletes
the newest events: `behalf audit verify` alone still finds a chain, but given
the kept checkpoint it reports the deletion.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
import requests
from joserfc import jws
from joserfc.jwk import KeySet

from conftest import CliError
from test_authlib import (  # noqa: F401  (fixtures, used by name)
    bearer,
    console_secret,
    delegation,
    metadata,
    rs_secret,
    show,
    subs,
)

CHECKPOINT_TYP = "audit-checkpoint+jwt"


@pytest.fixture(scope="module")
def jwks(server) -> KeySet:
    res = requests.get(f"{server.base_url}/jwks.json", timeout=10)
    assert res.status_code == 200, show(res)
    return KeySet.import_key_set(res.json())


@pytest.fixture(scope="module")
def kept(server, delegation, rs_secret):
    """bob ends the grant; the checkpoint made at its ending, as GET /audit/checkpoint serves it."""
    ended = requests.delete(
        f"{server.base_url}/api/grants/{delegation['grant_id']}",
        headers=bearer(delegation["bob_access"]),
        timeout=10,
    )
    assert ended.status_code == 200, show(ended)
    deadline = time.monotonic() + 5
    while True:
        res = requests.get(f"{server.base_url}/audit/checkpoint", auth=("rs", rs_secret), timeout=10)
        if res.status_code == 200:
            return res.json()
        assert res.status_code == 404, show(res)
        assert time.monotonic() < deadline, "no checkpoint 5 s after the grant ended"
        time.sleep(0.1)


def test_the_checkpoint_needs_client_authentication(server, rs_secret):
    res = requests.get(f"{server.base_url}/audit/checkpoint", timeout=10)
    assert res.status_code == 401, show(res)
    res = requests.get(f"{server.base_url}/audit/checkpoint", auth=("rs", "wrong"), timeout=10)
    assert res.status_code == 401, show(res)


def test_the_checkpoint_verifies_against_the_jwks(server, jwks, kept):
    token = kept["checkpoint"]
    found = jws.deserialize_compact(token, jwks, algorithms=["ES256"])
    assert found.protected["typ"] == CHECKPOINT_TYP
    assert found.protected["alg"] == "ES256"
    claims = json.loads(found.payload)
    assert claims["iss"] == server.issuer
    assert claims["seq"] == kept["seq"]
    assert claims["head"] == kept["head"]
    assert isinstance(claims["iat"], int)


def test_a_tampered_checkpoint_does_not_verify(jwks, kept):
    header, payload, signature = kept["checkpoint"].split(".")
    forged = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    with pytest.raises(Exception):
        jws.deserialize_compact(forged, jwks, algorithms=["ES256"])


def test_deleting_the_newest_events_is_caught_given_the_kept_checkpoint(server, cli, kept):
    token = kept["checkpoint"]
    said = cli("audit", "verify", "--checkpoint", token)
    assert "audit trail intact" in said and "checkpoint 1" in said and "matches" in said, said

    with sqlite3.connect(server.dir / "behalf.db") as db:
        deleted = db.execute("DELETE FROM audit_events WHERE seq >= ?", (kept["seq"] - 1,)).rowcount
    assert deleted >= 2

    assert "audit trail intact" in cli("audit", "verify"), "the shorter chain is still a chain"
    with pytest.raises(CliError) as caught:
        cli("audit", "verify", "--checkpoint", token)
    assert "events deleted: checkpoint 1" in str(caught.value), caught.value
    assert f"covers event {kept['seq']}" in str(caught.value), caught.value
