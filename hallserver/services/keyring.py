"""Authenticated encryption of personal data (AES-256-GCM) with key rotation.

The keyring holds named keys; the first encrypts, every key can decrypt. Rotation: add a new key in front
(`hallq keys rotate`), then re-encrypt stored values (`hallq keys reencrypt`), then retire old keys."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYRING_FILE = "data.keys"


class KeyringError(ValueError):
    """A value that cannot be decrypted (unknown key or tampered data)."""


@dataclass(frozen=True)
class Keyring:
    """Named 256-bit keys, newest first."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current(self) -> str:
        """The id of the key new values are encrypted with."""
        return self.keys[0][0]

    def encrypt(self, plaintext: str, aad: str) -> tuple[str, str]:
        """(key id, base64 nonce+ciphertext); `aad` binds the value to its row (e.g. the identity hash)."""
        key_id, key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return key_id, base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, key_id: str, token: str, aad: str) -> str:
        """The plaintext, or KeyringError when the key is unknown or the data was altered."""
        key = dict(self.keys).get(key_id)
        if key is None:
            raise KeyringError(f"unknown data key {key_id!r}")
        raw = base64.b64decode(token)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode("utf-8")).decode("utf-8")
        except InvalidTag as exc:
            raise KeyringError("personal data failed its integrity check") from exc

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """`id:base64key` entries separated by commas or lines, newest first."""
        keys = []
        for entry in text.replace(",", "\n").split():
            key_id, _, b64 = entry.partition(":")
            key = base64.b64decode(b64)
            if not key_id or len(key) != 32:
                raise KeyringError("each data key is `id:base64` of 32 bytes")
            keys.append((key_id, key))
        if not keys:
            raise KeyringError("the keyring is empty")
        if len({k for k, _ in keys}) != len(keys):
            raise KeyringError("duplicate data key id")
        return cls(tuple(keys))

    def dump(self) -> str:
        """The keyring in the form parse() reads."""
        return "\n".join(f"{k}:{base64.b64encode(v).decode('ascii')}" for k, v in self.keys) + "\n"


def new_key_id(existing: Keyring | None = None) -> str:
    """k1, k2, ... the next unused id."""
    used = {k for k, _ in existing.keys} if existing else set()
    n = 1
    while f"k{n}" in used:
        n += 1
    return f"k{n}"


def load_or_create_keyring(secret_dir: Path) -> Keyring:
    """The keyring file in the secret dir (0600), created with one key on first use."""
    path = secret_dir / KEYRING_FILE
    if path.exists():
        return Keyring.parse(path.read_text(encoding="ascii"))
    ring = Keyring(((new_key_id(), secrets.token_bytes(32)),))
    save_keyring(secret_dir, ring)
    return ring


def save_keyring(secret_dir: Path, ring: Keyring) -> None:
    """Write the keyring atomically with mode 0600."""
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = secret_dir / f".{KEYRING_FILE}.tmp"
    tmp.write_text(ring.dump(), encoding="ascii")
    tmp.chmod(0o600)
    tmp.replace(secret_dir / KEYRING_FILE)


def rotated(ring: Keyring) -> Keyring:
    """A keyring with a fresh key in front (old keys still decrypt)."""
    return Keyring(((new_key_id(ring), secrets.token_bytes(32)), *ring.keys))
