"""Signing secrets are sealed with KMS inside their items, bound to their channel."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from herald.adapters import aws
from herald.adapters.secret_box import PREFIX, SecretBox


@pytest.fixture
def box(aws_env: None) -> SecretBox:
    key_id = aws.client("kms").create_key(Description="herald secrets")["KeyMetadata"]["KeyId"]
    return SecretBox(key_id)


def test_sealed_secret_is_not_the_secret_and_opens_again(box: SecretBox) -> None:
    sealed = box.seal("whsec_c2VjcmV0", "ch-1")
    assert sealed.startswith(PREFIX) and "whsec_" not in sealed
    assert SecretBox(box.key_id).open(sealed, "ch-1") == "whsec_c2VjcmV0"


def test_sealed_secret_does_not_open_for_another_channel(box: SecretBox) -> None:
    sealed = box.seal("whsec_c2VjcmV0", "ch-1")
    with pytest.raises(ClientError):
        SecretBox(box.key_id).open(sealed, "ch-2")


def test_without_a_key_secrets_are_stored_as_they_are() -> None:
    assert SecretBox(None).seal("whsec_x", "ch") == "whsec_x"
    assert SecretBox(None).open("whsec_x", "ch") == "whsec_x"


def test_opened_secrets_are_cached(box: SecretBox) -> None:
    sealed = box.seal("whsec_c2VjcmV0", "ch-1")
    calls = []
    real = box.kms.decrypt
    box.kms.decrypt = lambda **kw: calls.append(1) or real(**kw)
    box.open(sealed, "ch-1")
    box.open(sealed, "ch-1")
    assert len(calls) == 1
