"""The keys that sign the ledger's checkpoints (leads.checkpoints), kept outside the database:
whoever can rewrite the database cannot sign a checkpoint that agrees with the rewrite.

Ed25519 when DCC_LEDGER_SIGNING_KEY names a private key file (`dcc ledger keygen` makes one):
headquarters checks the exported checkpoints with the public key alone, which cannot sign.
Otherwise HMAC-SHA256 with DCC_LEDGER_KEY, or, when that is not set, with a random key kept in
DCC_LEDGER_KEY_FILE (var/ledger_key, made on first use, readable by its owner only). A key is
named by its id, the start of a SHA-256 of it (of the public key for Ed25519), never by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HMAC_SHA256 = "hmac-sha256"
ED25519 = "ed25519"


@dataclass(frozen=True)
class Signer:
    algorithm: str
    key_id: str
    _hmac_key: bytes | None = None
    _private: Ed25519PrivateKey | None = None

    def sign(self, message: bytes) -> str:
        """The signature of `message`, in hex."""
        if self._private is not None:
            return self._private.sign(message).hex()
        assert self._hmac_key is not None
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()


def hmac_key_id(key: bytes) -> str:
    return "hmac-" + hashlib.sha256(b"dcc ledger key id\x00" + key).hexdigest()[:16]


def ed25519_key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def _hmac_key(*, create: bool) -> bytes | None:
    """DCC_LEDGER_KEY, else the key file (made when `create`, 0600 from the start)."""
    if settings.DCC_LEDGER_KEY:
        return settings.DCC_LEDGER_KEY.encode()
    path = Path(settings.DCC_LEDGER_KEY_FILE)
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _private_key(path: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"DCC_LEDGER_SIGNING_KEY {path}: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"DCC_LEDGER_SIGNING_KEY {path} is not an Ed25519 key")
    return key


def _public_key(path: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"DCC_LEDGER_PUBLIC_KEYS {path}: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ImproperlyConfigured(f"DCC_LEDGER_PUBLIC_KEYS {path} is not an Ed25519 key")
    return key


def signer() -> Signer:
    """The key new checkpoints are signed with."""
    if settings.DCC_LEDGER_SIGNING_KEY:
        private = _private_key(settings.DCC_LEDGER_SIGNING_KEY)
        return Signer(ED25519, ed25519_key_id(private.public_key()), _private=private)
    key = _hmac_key(create=True)
    assert key is not None
    return Signer(HMAC_SHA256, hmac_key_id(key), _hmac_key=key)


def public_keys() -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys checkpoints are checked with, by id: the signing key's and the
    retired ones of DCC_LEDGER_PUBLIC_KEYS."""
    keys = [_public_key(path) for path in settings.DCC_LEDGER_PUBLIC_KEYS]
    if settings.DCC_LEDGER_SIGNING_KEY:
        keys.append(_private_key(settings.DCC_LEDGER_SIGNING_KEY).public_key())
    return {ed25519_key_id(key): key for key in keys}


class Checker:
    """Checks signatures against the keys configured here (loaded once)."""

    def __init__(self) -> None:
        self.hmac_key = _hmac_key(create=False)
        self.public = public_keys()

    def check(self, *, algorithm: str, key_id: str, message: bytes, signature: str) -> bool | None:
        """Whether `signature` is the signature of `message` by key `key_id`; None when that
        key is not configured here (a retired key, another installation's)."""
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            return False
        if algorithm == HMAC_SHA256:
            if self.hmac_key is None or hmac_key_id(self.hmac_key) != key_id:
                return None
            expected = hmac.new(self.hmac_key, message, hashlib.sha256).digest()
            return hmac.compare_digest(expected, raw)
        if algorithm == ED25519:
            public = self.public.get(key_id)
            if public is None:
                return None
            try:
                public.verify(raw, message)
            except InvalidSignature:
                return False
            return True
        return False


def generate_ed25519(directory: Path, name: str = "ledger") -> tuple[Path, Path]:
    """A new Ed25519 key pair: `name`.pem (private, 0600) and `name`.pub.pem in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    private_path, public_path = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path
