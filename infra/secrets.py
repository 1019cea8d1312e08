"""Secrets: the key that encrypts channel signing secrets, and the One Codex webhook secret."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import nag

# The runtime encrypts each channel's signing secret with `kms.encrypt(..., EncryptionContext=
# {"herald:channel": <channel id>})`: a ciphertext only decrypts with the same context, so a secret
# copied onto another channel's item is useless. The grants below require exactly that one context
# key, so neither function can use the key for anything else.
CHANNEL_CONTEXT_KEY = "herald:channel"
CHANNEL_CONTEXT_CONDITIONS = {
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [CHANNEL_CONTEXT_KEY]},
    # ForAllValues is also true of an empty context; this makes the context mandatory.
    "Null": {"kms:EncryptionContextKeys": "false"},
}
# Encrypt for small secrets; GenerateDataKey if the runtime switches to envelope encryption. Both
# only produce ciphertexts under this key and context.
ENCRYPT_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")
DECRYPT_ACTIONS = ("kms:Decrypt",)


class Secrets(Construct):
    """A dedicated customer-managed key for signing secrets, and the One Codex webhook secret.

    Separate from the data key on purpose: every function can use the data key (through DynamoDB
    and SQS), but only the api function may encrypt with this one and only the deliver function
    may decrypt with it. Key and secret follow the table's lifecycle (retained in prod): channel
    secrets encrypted with a deleted key could never be read again.
    """

    def __init__(self, scope: Construct, construct_id: str, *, prod: bool) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY

        self.key = kms.Key(
            self,
            "SecretsKey",
            description="Herald channel signing secrets (field-level, encryption context herald:channel)",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if prod else 7),
        )

        # A random placeholder until the user stores the secret One Codex shows for the webhook
        # (`aws secretsmanager put-secret-value`, see docs/deploy.md): webhooks fail signature
        # verification until then, which is the safe way to be unconfigured.
        self.onecodex_secret = secretsmanager.Secret(
            self,
            "OneCodexWebhookSecret",
            description="One Codex webhook signing secret: replace the generated placeholder",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=64
            ),
            removal_policy=removal,
        )
        nag.acknowledge(
            self.onecodex_secret,
            "AwsSolutions-SMG4",
            "The value is issued by One Codex (a webhook signing secret shown in its settings); "
            "Herald cannot rotate it on One Codex's side. Users rotate it there and store the new "
            "value here.",
        )

    def grant_encrypt_channel_secrets(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, ENCRYPT_ACTIONS)

    def grant_decrypt_channel_secrets(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, DECRYPT_ACTIONS)

    def _grant(self, grantee: iam.IGrantable, actions: tuple[str, ...]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.key.key_arn],
            conditions=CHANNEL_CONTEXT_CONDITIONS,
        )
