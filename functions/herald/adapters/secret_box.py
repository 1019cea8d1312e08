"""Channel signing secrets, encrypted inside their items with KMS.

The table is already encrypted at rest; this adds a second lock so that a table export, a backup
or an over-broad `dynamodb:GetItem` grant never reveals a secret: only a principal allowed to
`kms:Decrypt` with the channel's encryption context (the deliver and API functions) can read it.
Sealed values look like `kms:v1:<base64 ciphertext>`. With no key configured (unit tests that
don't care) secrets are stored as they are; `herald dev` and CDK always configure one.
"""

from __future__ import annotations

import base64
from typing import Any

from herald.adapters import aws

PREFIX = "kms:v1:"


CACHE_LIMIT = 4096


class SecretBox:
    def __init__(self, key_id: str | None, kms: Any | None = None) -> None:
        self.key_id = key_id
        self._kms = kms
        # Decrypted secrets, per process: the deliver function reads the same channels over and
        # over, and a KMS call per delivery would cost more than the delivery.
        self._opened: dict[tuple[str, str], str] = {}

    @property
    def kms(self) -> Any:
        if self._kms is None:
            self._kms = aws.client("kms")
        return self._kms

    def seal(self, secret: str, channel_id: str) -> str:
        if not self.key_id:
            return secret
        blob = self.kms.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=_context(channel_id)
        )["CiphertextBlob"]
        return PREFIX + base64.b64encode(blob).decode()

    def open(self, sealed: str, channel_id: str) -> str:
        if not sealed.startswith(PREFIX):
            return sealed
        key = (sealed, channel_id)
        secret = self._opened.get(key)
        if secret is None:
            blob = base64.b64decode(sealed[len(PREFIX) :])
            secret = self.kms.decrypt(CiphertextBlob=blob, EncryptionContext=_context(channel_id))[
                "Plaintext"
            ].decode()
            if len(self._opened) >= CACHE_LIMIT:
                self._opened.clear()
            self._opened[key] = secret
        return secret


def _context(channel_id: str) -> dict[str, str]:
    # Binds each ciphertext to its channel: a sealed secret copied onto another item won't open.
    return {"herald:channel": channel_id}
