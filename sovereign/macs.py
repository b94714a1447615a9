"""What the key signs: list versions, the audit chain, the issuer register, tokens and the keyring record, each
an HMAC over its fields with the secret (`sovereign.keys` finds the secret in its file). Pure: bytes and values
in, hexadecimal out; stdlib only, so `check` and the audit chain's checks use it without the store."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64  # the hash before an audit trail's first row


@dataclass(frozen=True)
class Key:
    """A secret, and the file it was read from (named in messages, never read here)."""
    secret: bytes
    path: Path
    created: bool = False  # made by this process just now (first use)

    @property
    def id(self) -> str:
        """A fingerprint that names the key in the database and in messages without giving it away."""
        return hmac.new(self.secret, b"sovereign key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, *parts: Any) -> str:
        return hmac.new(self.secret, json.dumps(parts, ensure_ascii=False, default=str).encode(),
                        hashlib.sha256).hexdigest()


VERSION_FIELDS = ("id", "edition", "state", "effective_from", "approved_by", "policy_digest", "created_at",
                  "published_at")


def version_digest(key: Key, version: dict, canonical_entries: list) -> str:
    """A list version's decision (which edition, in force from when, approved by whom) and its entries."""
    return key.mac("list version", *(version[f] for f in VERSION_FIELDS), canonical_entries)


def chain_hash(key: Key, prev_hash: str, row_id: int, fields: list) -> str:
    """One audit row chained to the one before it, its position included (rows cannot be renumbered)."""
    return key.mac("audit", prev_hash, row_id, fields)


ISSUER_FIELDS = ("id", "name", "short_name", "lei", "iso2", "type")


def issuer_mac(key: Key, issuer: dict) -> str:
    """An issuer as the register recorded it: who it is, which country, which type."""
    return key.mac("issuer", *(issuer[f] for f in ISSUER_FIELDS))


def security_mac(key: Key, isin: str, issuer_id: int) -> str:
    """An ISIN tied to its issuer."""
    return key.mac("security", isin, issuer_id)


def token_mac(key: Key, token: dict) -> str:
    """A person's admin token (its hash) as issued, and whether it was revoked."""
    return key.mac("token", token["id"], token["person"], token["hash"], token["created_at"], token["revoked_at"])


def keyring_seal(key: Key, key_id: str, keyed_at: str, sealed_through: int, head: str) -> str:
    """The record of when the database was first keyed: how much of the older, unkeyed chain it vouches for."""
    return key.mac("keyring", key_id, keyed_at, sealed_through, head)
