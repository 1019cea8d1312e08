"""HTTP webhook target: a signed POST over a shared connection pool."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import urllib3

from herald.targets.base import Outcome

RESPONSE_EXCERPT_BYTES = 64 * 1024
USER_AGENT = "Herald-Webhooks/1.0"

# One pool per process, reused across invocations; redirects are never followed (a 3xx is a
# failure) and urllib3's own retries are off because Herald's schedule owns retrying.
_pool = urllib3.PoolManager(num_pools=100, maxsize=10, retries=False)


def post(url: str, body: bytes, headers: dict[str, str], timeout_seconds: float) -> Outcome:
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    started = time.perf_counter()
    try:
        resp = _pool.request(
            "POST",
            url,
            body=body,
            headers=all_headers,
            timeout=urllib3.Timeout(connect=min(timeout_seconds, 10.0), read=timeout_seconds),
            preload_content=False,
            redirect=False,
            retries=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(success=False, duration_ms=_ms(started), error=_describe(exc, timeout_seconds))
    try:
        data = resp.read(RESPONSE_EXCERPT_BYTES + 1)
    except urllib3.exceptions.HTTPError as exc:
        resp.close()
        return Outcome(
            success=False,
            duration_ms=_ms(started),
            http_status=resp.status,
            error=f"reading the response failed: {_describe(exc, timeout_seconds)}",
        )
    if len(data) > RESPONSE_EXCERPT_BYTES:
        resp.close()  # don't drain an oversized body into the pool
    else:
        resp.release_conn()
    excerpt = data[:1024].decode("utf-8", errors="replace") or None
    ok = 200 <= resp.status < 300
    return Outcome(
        success=ok,
        duration_ms=_ms(started),
        http_status=resp.status,
        error=None if ok else f"HTTP {resp.status}",
        response_excerpt=excerpt,
        retry_after=_retry_after(resp.headers.get("Retry-After")) if resp.status in (429, 503) else None,
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: Exception, timeout_seconds: float) -> str:
    # Order matters: in urllib3 2, NameResolutionError < NewConnectionError < ConnectTimeoutError.
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return "host name could not be resolved"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or unreachable"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"timed out after {timeout_seconds:g} s"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection reset or closed by the receiver"
    return f"{type(exc).__name__}: {exc}"


def _retry_after(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return max(0, int(value.strip()))
    except ValueError:
        pass
    try:
        return max(0, int(parsedate_to_datetime(value).timestamp() - time.time()))
    except (TypeError, ValueError):
        return None
