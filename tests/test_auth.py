"""Tokens from a real identity provider, in every skill's layout: RS256, ES256 and EdDSA keys, a JWKS on
localhost that rotates, algorithm confusion, ``exp``/``aud``/``iss``, settings that cannot work, and
builtin's login form.

Each skill's backends run in one subprocess (its modules would clash with another skill's); every set of
settings there imports the app afresh and sends its requests through the ASGI app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from skillrunner.contract import Contract, load_contract, parse_contract
from skillrunner.conventions import Conventions, load_conventions
from skillrunner.render import render_backend
from test_skills_render import FOLDERS, SHELF, SKILLS, TASK_CRUD

pytestmark = pytest.mark.slow

SKILL_FOLDERS = {"backend-builder": SKILLS / "backend-builder", **FOLDERS}
AUDIENCE, ISSUER = "https://api.example.test", "https://idp.example.test/"
SECRET = "auth-test-secret-" + "z" * 40
_SCRUBBED = ("DATABASE_URL", "TEST_DATABASE_URL", "MIGRATE_ON_START", "PYTHONPATH")

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_A = ec.generate_private_key(ec.SECP256R1())
EC_B = ec.generate_private_key(ec.SECP256R1())  # the provider's next key, after a rotation
ED_KEY = ed25519.Ed25519PrivateKey.generate()  # Better Auth's JWT plugin signs with Ed25519 (EdDSA)
OTHER_ED_KEY = ed25519.Ed25519PrivateKey.generate()


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "use": "sig", "alg": "ES256"}


def _okp_jwk(key: ed25519.Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "use": "sig", "alg": "EdDSA"}


def _claims(**changes: Any) -> dict[str, Any]:
    """Claims the app accepts, with ``changes`` (None leaves a claim out)."""
    claims = {"sub": "user-1", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 600} | changes
    return {name: value for name, value in claims.items() if value is not None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256_by_hand(secret: bytes, header: dict[str, Any] | None = None) -> str:
    """An HS256 token with valid claims keyed with ``secret``: pyjwt will not sign one with a public key."""
    signing = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **(header or {})}).encode()) + "."
    signing += _b64(json.dumps(_claims()).encode())
    return signing + "." + _b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())


def _unsigned() -> str:
    return jwt.encode(_claims(), "", algorithm="none")


def _es(key: ec.EllipticCurvePrivateKey, kid: str | None, **changes: Any) -> str:
    return jwt.encode(_claims(**changes), key, algorithm="ES256", headers={"kid": kid} if kid else None)


def _rs(**changes: Any) -> str:
    return jwt.encode(_claims(**changes), RSA_KEY, algorithm="RS256")


def _ed(key: ed25519.Ed25519PrivateKey, kid: str | None = None, **changes: Any) -> str:
    return jwt.encode(_claims(**changes), key, algorithm="EdDSA", headers={"kid": kid} if kid else None)


#: (what, token, status) for RS256 with JWT_PUBLIC_KEY, audience and issuer set.
PEM_CASES = [
    ("a valid RS256 token", _rs(), 200),
    ("no exp", _rs(exp=None), 401),
    ("expired", _rs(exp=int(time.time()) - 60), 401),
    ("another audience", _rs(aud="https://another-api.test"), 401),
    ("no audience", _rs(aud=None), 401),
    ("another issuer", _rs(iss="https://another-idp.test/"), 401),
    ("no sub", _rs(sub=None), 401),
    ("alg none", _unsigned(), 401),
    ("HS256 keyed with the public key (algorithm confusion)", _hs256_by_hand(_pem(RSA_KEY)), 401),
    ("signed by another RSA key", jwt.encode(_claims(), OTHER_RSA_KEY, algorithm="RS256"), 401),
    ("ES256 instead of RS256", _es(EC_A, None), 401),
]
#: (what, token, status) for ES256 with JWT_JWKS_URL, in order: the JWKS holds key a, then a and b.
JWKS_CASES = [
    ("kid a", _es(EC_A, "a"), 200),
    ("kid a again, from the cache", _es(EC_A, "a"), 200),
    ("kid b, after the provider rotated its keys", _es(EC_B, "b"), 200),
    ("a made-up kid (no second fetch so soon)", _es(EC_B, "made-up"), 401),
    ("no kid", _es(EC_A, None), 401),
    ("kid a, signed by b", _es(EC_B, "a"), 401),
    ("kid b, no exp", _es(EC_B, "b", exp=None), 401),
    ("HS256 keyed with a's JWK (algorithm confusion)",
     _hs256_by_hand(json.dumps(_jwk(EC_A, "a")).encode(), {"kid": "a"}), 401),
    ("HS256 keyed with a's PEM", _hs256_by_hand(_pem(EC_A), {"kid": "a"}), 401),
    ("RS256 with kid a", jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "a"}), 401),
    ("alg none with kid a", jwt.encode(_claims(), "", algorithm="none", headers={"kid": "a"}), 401),
    ("ES256 naming the provider's RSA key", _es(EC_A, "r"), 401),
]
#: (what, token, status) for EdDSA with JWT_PUBLIC_KEY (an Ed25519 PEM).
ED_PEM_CASES = [
    ("a valid Ed25519 token", _ed(ED_KEY), 200),
    ("expired", _ed(ED_KEY, exp=int(time.time()) - 60), 401),
    ("signed by another Ed25519 key", _ed(OTHER_ED_KEY), 401),
    ("HS256 keyed with the public key (algorithm confusion)", _hs256_by_hand(_pem(ED_KEY)), 401),
    ("ES256 instead of EdDSA", _es(EC_A, None), 401),
]
#: (what, token, status) for EdDSA with JWT_JWKS_URL, whose keys hold Ed25519 key e beside ES256 and RSA ones.
ED_JWKS_CASES = [
    ("kid e", _ed(ED_KEY, "e"), 200),
    ("kid e, signed by another Ed25519 key", _ed(OTHER_ED_KEY, "e"), 401),
    ("ES256 with kid a (a key for another algorithm)", _es(EC_A, "a"), 401),
    ("ES256 with kid e", _es(EC_A, "e"), 401),
]
#: (settings, what the refusal must say): each must stop the app at start-up.
CONFIG_CASES = [
    ({"JWT_ALGORITHM": "RS256"}, "JWT_JWKS_URL"),
    ({"JWT_ALGORITHM": "HS256"}, "JWT_SECRET is not set"),
    ({"JWT_ALGORITHM": "HS256", "JWT_SECRET": "short-secret"}, "at least 32 bytes"),
    ({"JWT_ALGORITHM": "HS256", "JWT_SECRET": SECRET, "JWT_PUBLIC_KEY": _pem(RSA_KEY).decode()},
     "RS, ES, PS and EdDSA"),
    ({"JWT_ALGORITHM": "ES256", "JWT_PUBLIC_KEY": _pem(RSA_KEY).decode()}, "not a PEM public key for ES256"),
    ({"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": "not a key"}, "not a PEM public key for RS256"),
    ({"JWT_ALGORITHM": "EdDSA", "JWT_PUBLIC_KEY": _pem(EC_A).decode()}, "not a PEM public key for EdDSA"),
    ({"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": _pem(RSA_KEY).decode(),
      "JWT_JWKS_URL": "https://idp.example.test/jwks.json"}, "not both"),
    ({"JWT_ALGORITHM": "ES256", "JWT_JWKS_URL": "file:///etc/passwd"}, "http(s)"),
]

_DRIVER = r'''
import asyncio, importlib, json, os, sys
from pathlib import Path

import httpx
from sqlalchemy.orm import clear_mappers
from sqlmodel import SQLModel


def forget(root):
    """Drop the tree's modules (and its tables), so the next import reads its settings afresh."""
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
        if where and Path(where).resolve().is_relative_to(root):
            del sys.modules[name]
    clear_mappers()
    SQLModel.metadata.clear()


async def send(app, calls):
    answers, token = [], ""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for call in calls:
                headers = {k: v.replace("{token}", token) for k, v in call.get("headers", {}).items()}
                r = await client.request(call["method"], call["url"], headers=headers,
                                         json=call.get("json"), data=call.get("data"))
                body = r.json() if r.content else None
                if isinstance(body, dict) and "access_token" in body:
                    token = body["access_token"]
                answers.append({"status": r.status_code, "body": body,
                                "www": r.headers.get("www-authenticate")})
    return answers


results = []
for run in json.load(sys.stdin):
    root = Path(run["root"]).resolve()
    for name in [n for n in os.environ if n.startswith("JWT_")]:
        del os.environ[name]
    os.environ.update(run["env"])
    os.chdir(root)
    sys.path.insert(0, str(root))
    try:
        if "calls" in run:
            module, _, attr = run["app"].partition(":")
            results.append(asyncio.run(send(getattr(importlib.import_module(module), attr), run["calls"])))
        else:
            try:
                importlib.import_module(run["config"])
                results.append("started")
            except Exception as error:
                results.append(f"{type(error).__name__}: {error}")
    finally:
        sys.path.remove(str(root))
        forget(root)
print(json.dumps(results))
'''


class _Jwks(BaseHTTPRequestHandler):
    """``GET /<skill>.json``: the n-th fetch gets the n-th key set (the last one from then on)."""

    sets: ClassVar[list[dict[str, Any]]] = []
    fetches: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        self.fetches[self.path] += 1
        body = json.dumps(self.sets[min(self.fetches[self.path], len(self.sets)) - 1]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[str]:
    rsa_jwk: dict[str, Any] = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)
    rsa_jwk |= {"kid": "r", "use": "sig"}  # a key for another algorithm, published beside the others
    ed_jwk = _okp_jwk(ED_KEY, "e")
    _Jwks.sets = [{"keys": [_jwk(EC_A, "a"), rsa_jwk, ed_jwk]},
                  {"keys": [_jwk(EC_A, "a"), _jwk(EC_B, "b"), rsa_jwk, ed_jwk]}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _contract(source: str | Path) -> Contract:
    if isinstance(source, Path):
        return load_contract(source)
    contract, findings = parse_contract(source, "specs/api/shelf.md")
    assert contract is not None, findings
    return contract


def _write(contract: Contract, conv: Conventions, root: Path) -> Path:
    for rel, text in render_backend(contract, conv).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _gets(url: str, cases: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    return [{"method": "GET", "url": url, "headers": {"Authorization": f"Bearer {token}"}}
            for _, token, _ in cases]


@pytest.mark.parametrize("skill", sorted(SKILL_FOLDERS))
def test_provider_tokens_and_builtin_login(skill: str, jwks_server: str, tmp_path: Path) -> None:
    conv = load_conventions(SKILL_FOLDERS[skill])
    jwt_root = _write(_contract(TASK_CRUD), conv, tmp_path / "jwt")
    builtin_root = _write(_contract(SHELF), conv, tmp_path / "builtin")
    jwks_path = f"/{skill}.json"
    one_line_pem = _pem(RSA_KEY).decode().strip().replace("\n", "\\n")  # as a .env line holds it
    checked = {"JWT_AUDIENCE": AUDIENCE, "JWT_ISSUER": ISSUER}
    account = {"email": "ada@example.com", "password": "correct horse battery"}
    login_form = {"grant_type": "password", "username": account["email"], "password": account["password"]}
    runs: list[dict[str, Any]] = [
        {"root": str(jwt_root), "app": conv.app, "calls": _gets("/api/tasks", PEM_CASES),
         "env": {"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": one_line_pem, **checked,
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'pem.db'}"}},
        {"root": str(jwt_root), "app": conv.app, "calls": _gets("/api/tasks", JWKS_CASES),
         "env": {"JWT_ALGORITHM": "ES256", "JWT_JWKS_URL": jwks_server + jwks_path, **checked,
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'jwks.db'}"}},
        {"root": str(jwt_root), "app": conv.app, "calls": _gets("/api/tasks", ED_PEM_CASES),
         "env": {"JWT_ALGORITHM": "EdDSA", "JWT_PUBLIC_KEY": _pem(ED_KEY).decode(), **checked,
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'pem.db'}"}},
        {"root": str(jwt_root), "app": conv.app, "calls": _gets("/api/tasks", ED_JWKS_CASES),
         "env": {"JWT_ALGORITHM": "EdDSA", "JWT_JWKS_URL": f"{jwks_server}/{skill}-eddsa.json", **checked,
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'jwks.db'}"}},
        {"root": str(builtin_root), "app": conv.app, "calls": [
            {"method": "GET", "url": "/openapi.json"},
            {"method": "POST", "url": "/api/auth/register", "json": account},
            {"method": "POST", "url": "/api/auth/login", "data": login_form},  # what /docs' Authorize sends
            {"method": "GET", "url": "/api/shelves", "headers": {"Authorization": "Bearer {token}"}},
            {"method": "GET", "url": "/api/auth/me", "headers": {"Authorization": "Bearer {token}"}},
            {"method": "GET", "url": "/api/shelves", "headers": {"Authorization": "Bearer " + jwt.encode(
                {"sub": "1", "aud": AUDIENCE, "iss": ISSUER}, SECRET, algorithm="HS256")}},  # no exp
        ], "env": {"JWT_SECRET": SECRET, **checked, "DATABASE_URL": f"sqlite:///{tmp_path / 'builtin.db'}"}},
        *({"root": str(jwt_root), "config": conv.module("config"), "env": env} for env, _ in CONFIG_CASES),
        {"root": str(builtin_root), "config": conv.module("config"),
         "env": {"JWT_ALGORITHM": "RS256", "JWT_SECRET": SECRET}},
    ]
    env = {k: v for k, v in os.environ.items()
           if k not in _SCRUBBED and not k.startswith(("JWT_", "PYTEST_"))}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "MIGRATE_ON_START": "true", "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(runs), cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"the driver failed:\n{done.stdout}\n{done.stderr[-6000:]}"
    pem, jwks, ed_pem, ed_jwks, builtin, *configs = json.loads(done.stdout)

    for name, answers, cases in (("RS256, JWT_PUBLIC_KEY", pem, PEM_CASES),
                                 ("ES256, JWT_JWKS_URL", jwks, JWKS_CASES),
                                 ("EdDSA, JWT_PUBLIC_KEY", ed_pem, ED_PEM_CASES),
                                 ("EdDSA, JWT_JWKS_URL", ed_jwks, ED_JWKS_CASES)):
        got = {what: answer["status"] for (what, _, _), answer in zip(cases, answers, strict=True)}
        assert got == {what: status for what, _, status in cases}, f"{skill}, {name}"
        assert all(a["www"] == "Bearer" for a in answers if a["status"] == 401)
    assert _Jwks.fetches[jwks_path] == 2, "a fetch at first, one for the rotated key, none for a made-up kid"

    openapi, registered, login, shelves, me, no_exp = builtin
    flows = [s["flows"]["password"] for s in openapi["body"]["components"]["securitySchemes"].values()
             if s["type"] == "oauth2"]
    assert [flow["tokenUrl"] for flow in flows] == ["/api/auth/login"], openapi["body"]["components"]
    assert (registered["status"], login["status"], shelves["status"], me["status"]) == (201, 200, 200, 200)
    claims = jwt.decode(login["body"]["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE,
                        issuer=ISSUER, options={"require": ["exp", "aud", "iss", "sub"]})
    assert claims["sub"] == str(registered["body"]["id"]) == str(me["body"]["id"])
    assert no_exp["status"] == 401

    *refused, builtin_rs256 = configs
    for (settings, says), message in zip(CONFIG_CASES, refused, strict=True):
        assert message.startswith("ValidationError") and says in message, (settings, message)
    assert builtin_rs256.startswith("ValidationError") and "HS256" in builtin_rs256
