"""The public REST API: API Gateway proxies every path and method to the api function.

Request size: API Gateway REST accepts payloads up to 10 MB (a fixed service limit); the api
function refuses bodies over 512 KiB with 413. API Gateway cannot check a body's size without
a model, and the proxy has no models: the function validates every body (pydantic) instead.
CORS is off: no OPTIONS methods, no Access-Control headers; Herald is called by servers.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from herald import names
from infra import nag

F = apigw.AccessLogField
# One JSON object per request, so Logs Insights can query the access log field by field.
# Every value is quoted: absent values render as "-", which is not a JSON number.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": F.context_request_id(),
        "ip": F.context_identity_source_ip(),
        "requestTime": F.context_request_time(),
        "httpMethod": F.context_http_method(),
        "resourcePath": F.context_resource_path(),
        "path": F.context_path(),
        "status": F.context_status(),
        "protocol": F.context_protocol(),
        "responseLength": F.context_response_length(),
        "responseLatency": F.context_response_latency(),
        "integrationLatency": F.context_integration_latency(),
        "integrationStatus": F.context_integration_status(),
        "errorMessage": F.context_error_message(),
        "xrayTraceId": F.context_xray_trace_id(),
    }
)


class Api(Construct):
    """Creates the REST API (regional, `{proxy+}` ANY), its stage settings and access log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        stage_name: str,
        throttle_rate: float,
        throttle_burst: int,
        prod: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_YEAR if prod else logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.LambdaRestApi(
            self,
            "RestApi",
            handler=handler,
            proxy=True,
            # Named after the stack: API Gateway's metrics are keyed by name, so two stages in one
            # account must not share one.
            rest_api_name=Stack.of(self).stack_name,
            description="Herald events, channels and subscriptions API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Stage logging needs the account-level API Gateway CloudWatch role; create it (kept
            # on stack deletion: it is one per account and region, possibly shared).
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                # Execution logs at ERROR only: INFO would log request bodies (user payloads).
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
            ),
        )
        # LambdaRestApi adds an "Endpoint" output with a generated id; the stack's stable `ApiUrl`
        # output replaces it.
        self.rest_api.node.try_remove_child("Endpoint")
        self._acknowledge()

    def _acknowledge(self) -> None:
        nag.acknowledge(
            self.rest_api.node.default_child,  # type: ignore[arg-type]
            "AwsSolutions-APIG2",
            "A `{proxy+}` integration: the api function validates every request (pydantic models per "
            "route, 4xx naming the field, 413 over 512 KiB); API Gateway request models would "
            "duplicate them and drift.",
        )
        for method in self.rest_api.methods:
            auth = (
                "Authentication is in the api function: API keys (X-API-Key, stored hashed) for the "
                f"REST API, and One Codex's HMAC signature for POST {names.ONECODEX_WEBHOOK_PATH}, which must "
                "stay reachable without a key. API Gateway authorizers would split this in two."
            )
            nag.acknowledge(method.node.default_child, "AwsSolutions-APIG4", auth)  # type: ignore[arg-type]
            nag.acknowledge(method.node.default_child, "AwsSolutions-COG4", auth)  # type: ignore[arg-type]
        role = self.rest_api.node.try_find_child("CloudWatchRole")
        assert role is not None
        nag.acknowledge_managed_policy(
            role,
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            "API Gateway's account-level logging role (one per account and region) uses the AWS "
            "policy made for it; stage access and execution logs need it.",
        )
        nag.acknowledge(
            self.rest_api.deployment_stage.node.default_child,  # type: ignore[arg-type]
            "AwsSolutions-APIG3",
            "No WAF by default (a web ACL costs a monthly fee per deployment): the stage is "
            "throttled, bodies are size-checked by the function, and every route but the signed "
            "webhook needs an API key. Attach a web ACL to the stage if your policy requires one.",
        )

    @property
    def url(self) -> str:
        return self.rest_api.url

    @property
    def onecodex_webhook_url(self) -> str:
        """Where One Codex posts (the stage URL ends with `/`; the path is the api function's)."""
        return f"{self.rest_api.url}{names.ONECODEX_WEBHOOK_PATH.lstrip('/')}"
