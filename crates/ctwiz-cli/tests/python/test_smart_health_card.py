"""Independent verification of ctwiz SMART Health Cards with Python jwcrypto.

A real verifier's steps: read the JWS from the `.smart-health-card` file, fetch the
issuer's JWK Set from `{iss}/.well-known/jwks.json` as `ctwiz serve` publishes it, pick the
key by `kid`, check the ES256 signature, inflate the raw-DEFLATE payload and read the FHIR
bundle. A tampered card must fail. Run by `.ci/run` in its venv (CTWIZ_BIN = the ctwiz
binary); outside CI a missing binary or jwcrypto skips with the reason.
"""

import base64
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import zlib

import pytest

try:
    from jwcrypto import jwk, jws
    from jwcrypto.common import JWException
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("jwcrypto is not installed (.ci/run installs it)", allow_module_level=True)

BIN = os.environ.get("CTWIZ_BIN")


def ctwiz(db, *args):
    if not BIN:
        if os.environ.get("CI"):
            raise AssertionError("CTWIZ_BIN must point at the ctwiz binary under CI")
        pytest.skip("CTWIZ_BIN is not set")
    env = {k: v for k, v in os.environ.items() if k not in ("CTWIZ_DB", "CTWIZ_PUBLIC_URL")}
    out = subprocess.run([BIN, "--db", db, *args], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def payload_of(token):
    return json.loads(zlib.decompress(b64url_decode(token.split(".")[1]), -15))


def verify(token, jwks_json):
    """Verifies like a wallet: the key named by the header's kid, ES256 only."""
    keys = jwk.JWKSet.from_json(jwks_json)
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["alg"] == "ES256" and header["zip"] == "DEF"
    key = keys.get_key(header["kid"])
    assert key is not None, "the card's kid is not published"
    assert key.thumbprint() == header["kid"], "kid is the RFC 7638 thumbprint"
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="ES256")
    return payload_of(token)


@pytest.fixture
def served():
    """A seeded database served by `ctwiz serve` on a free port."""
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "shc.db")
        ctwiz(db, "seed", "--children", "5", "--clinics", "1", "--seed", "3", "--as-of", "2026-01-01")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [BIN, "--db", db, "serve", "--addr", f"127.0.0.1:{port}", "--public-url", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(url + "/.well-known/jwks.json", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            yield db, d, url
        finally:
            server.terminate()
            server.wait(timeout=10)


def issue(db, d, url, name):
    pdf, card = os.path.join(d, name + ".pdf"), os.path.join(d, name + ".smart-health-card")
    ctwiz(db, "certificate", "1", "--kind", "school", "--out", pdf, "--card", card, "--public-url", url)
    with open(card) as f:
        return json.load(f)["verifiableCredential"][0]


def published(url):
    with urllib.request.urlopen(url + "/.well-known/jwks.json", timeout=5) as r:
        return r.read().decode()


def test_our_card_verifies_with_the_published_keys(served):
    db, d, url = served
    token = issue(db, d, url, "a")
    payload = verify(token, published(payload_of(token)["iss"]))
    assert payload["iss"] == url
    assert payload["vc"]["type"] == ["https://smarthealth.cards#health-card"]
    bundle = payload["vc"]["credentialSubject"]["fhirBundle"]
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    codes = [
        e["resource"]["vaccineCode"]["coding"][0]
        for e in bundle["entry"][1:]
    ]
    assert codes and all(c["system"] == "http://hl7.org/fhir/sid/cvx" for c in codes)


def test_a_tampered_card_is_rejected(served):
    db, d, url = served
    token = issue(db, d, url, "b")
    header, body, sig = token.split(".")
    data = json.loads(zlib.decompress(b64url_decode(body), -15))
    data["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]["birthDate"] = "2001-01-01"
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    forged = z.compress(json.dumps(data, separators=(",", ":")).encode()) + z.flush()
    body = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    with pytest.raises(JWException):
        verify(".".join([header, body, sig]), published(url))


def test_old_cards_verify_after_a_key_rotation(served):
    db, d, url = served
    old = issue(db, d, url, "c")
    ctwiz(db, "keys", "rotate")
    new = issue(db, d, url, "e")
    keys = published(url)
    assert len(json.loads(keys)["keys"]) == 2
    verify(old, keys)
    verify(new, keys)
    assert json.loads(b64url_decode(old.split(".")[0]))["kid"] != json.loads(
        b64url_decode(new.split(".")[0])
    )["kid"]
