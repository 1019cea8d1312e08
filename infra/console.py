"""The web console, deployed on the API's own origin: `{ApiUrl}console/`.

The console is static files built into the Lambda package (`herald/console_static/`, by
`make console`); the api function serves them at `/console/` with their Content-Security-Policy,
exactly as `herald dev` does. Same origin as the API: no CORS, no second origin in the CSP, no
bucket or distribution to secure. This construct adds what the console needs from the REST API:

- response compression (gzip when the browser asks, bodies of 1 KiB or more): the console's
  script is ~115 KB, ~45 KB compressed; JSON lists benefit too;
- the `ConsoleUrl` output.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

CONSOLE_PATH = "console/"
BUILT_INDEX = (
    Path(__file__).resolve().parent.parent / "functions" / "herald" / "console_static" / "index.html"
)
MIN_COMPRESSION_BYTES = 1024


class Console(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, rest_api: apigw.RestApi, api_url: str) -> None:
        super().__init__(scope, construct_id)
        cfn = rest_api.node.default_child
        assert isinstance(cfn, apigw.CfnRestApi)
        cfn.minimum_compression_size = MIN_COMPRESSION_BYTES
        self.url = f"{api_url}{CONSOLE_PATH}"
        if not BUILT_INDEX.exists():
            Annotations.of(self).add_warning_v2(
                "herald:console-not-built",
                "The web console is not built (run `make console`, which `make deploy` does): "
                "the deployed /console/ would answer 503.",
            )
