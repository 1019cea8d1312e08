"""Herald's bounds on what a caller controls, each checked before the work it would cause.

One place for them, so the API, the bridge, the webhook and `herald dev`'s server agree; the
README's API section lists each with the error it gives (always a 4xx with a message).
"""

from __future__ import annotations

# A request body, on every route (authenticated or not): 413, checked before it is read or parsed.
# API Gateway itself accepts up to 10 MB; Herald's events are far smaller (payload limit 256 KiB).
MAX_BODY_BYTES = 512 * 1024
# How deep any JSON Herald accepts may nest (request bodies, bridged messages, webhooks): 400.
# 32 levels is what DynamoDB allows a document, and more than strict receivers' defaults need
# (.NET's System.Text.Json stops at 64, Ruby's JSON at 100; pydantic's serializer failed at ~254).
# A body wraps its payload once and a delivery's envelope wraps it once, so a payload may nest
# MAX_JSON_DEPTH - 1 levels and every delivery of it at most MAX_JSON_DEPTH.
MAX_JSON_DEPTH = 32
MAX_PAYLOAD_DEPTH = MAX_JSON_DEPTH - 1
# Members of one JSON object or array: 400. Bounds the work per value of validation, filters and
# rendering (the body size alone allows ~250,000 one-digit array members).
MAX_JSON_MEMBERS = 10_000
# An event's payload as compact JSON: 413 (SQS/SNS deliveries carry it whole; 256 KiB is their
# message limit).
MAX_PAYLOAD_BYTES = 256 * 1024

BODY_TOO_LARGE = f"request bodies are limited to {MAX_BODY_BYTES} bytes"
