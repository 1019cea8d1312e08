"""HTTP webhook target: a signed POST over a shared connection pool."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from herald import ssrf
from herald.targets.base import Outcome

RESPONSE_EXCERPT_BYTES = 64 * 1024
USER_AGENT = "Herald-Webhooks/1.0"


class _PublicOnly:
    """Resolve, check every address is public, and connect to a checked one (see herald.ssrf).

    urllib3 connects to `_dns_host`; TLS still verifies and sends SNI for `host`.
    """

    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> Any:
        self._dns_host = ssrf.resolve_public(self.host, self.port)[0]
        return super()._new_conn()  # type: ignore[misc]


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


def _pool_manager(public_only: bool) -> urllib3.PoolManager:
    # Reused across invocations; redirects are never followed (a 3xx is a failure) and urllib3's
    # own retries are off because Herald's schedule owns retrying.
    manager = urllib3.PoolManager(num_pools=100, maxsize=10, retries=False)
    if public_only:
        manager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}
    return manager


_public_pool = _pool_manager(public_only=True)
_any_pool = _pool_manager(public_only=False)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout_seconds: float, allow_private: bool = False
) -> Outcome:
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    pool = _any_pool if allow_private else _public_pool
    started = time.perf_counter()
    try:
        resp = pool.request(
            "POST",
            url,
            body=body,
            headers=all_headers,
            timeout=urllib3.Timeout(connect=min(timeout_seconds, 10.0), read=timeout_seconds),
            preload_content=False,
            redirect=False,
            retries=False,
        )
    except ssrf.UnsafeTargetError as exc:
        return Outcome(success=False, duration_ms=_ms(started), error=f"refused: {exc}", retryable=False)
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(success=False, duration_ms=_ms(started), error=_describe(exc, timeout_seconds))
    except OSError as exc:  # name resolution inside the public-only connection
        return Outcome(success=False, duration_ms=_ms(started), error=str(exc))
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
