"""HTTP webhook target: a signed POST on an asyncio connection pool (aiohttp).

Chosen by measurement (bench/bench_delivery.py): a batch sent concurrently on one event loop
reaches the throughput of a raw aiohttp client, where urllib3 on threads managed about a fifth of
it on two cores. Redirects are never followed (a 3xx is a failure), and the client's own retries
are off because Herald's schedule owns retrying.
"""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from herald.domain import ssrf
from herald.targets.base import Outcome

RESPONSE_EXCERPT_BYTES = 64 * 1024
EXCERPT_KEPT_CHARS = 1024
USER_AGENT = "Herald-Webhooks/1.0"
POOL_LIMIT = 100


class PublicOnlyResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses any non-public address (see herald.domain.ssrf).

    The check runs on the very addresses aiohttp connects to, so a DNS answer that changed since
    the channel was created (DNS rebinding) is caught here.
    """

    def __init__(self) -> None:
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            ssrf.check_address(host, result["host"])
        return results

    async def close(self) -> None:
        await self._resolver.close()


# One pool per event loop and policy; Lambda keeps its loop between invocations, so connections
# to a receiver are reused across batches. The loop is kept with its pool: a new loop may get a
# dead one's id, and must not be handed a pool bound to that dead loop.
_sessions: dict[tuple[int, bool], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def _session(allow_private: bool) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    key = (id(loop), allow_private)
    entry = _sessions.get(key)
    if entry is not None and entry[0] is loop and not entry[1].closed:
        return entry[1]
    if entry is not None and entry[0] is not loop:
        _drop(entry[1])
    connector = aiohttp.TCPConnector(
        limit=POOL_LIMIT,
        resolver=None if allow_private else PublicOnlyResolver(),
        enable_cleanup_closed=True,
    )
    session = aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": USER_AGENT}, auto_decompress=False
    )
    _sessions[key] = (loop, session)
    return session


def _drop(session: aiohttp.ClientSession) -> None:
    """Close a pool whose loop cannot run its async close any more: its connections, at once."""
    if session.connector is not None and not session.closed:
        session.connector.close()  # closes the transports now; the awaitable it returns is done


async def close_sessions() -> None:
    """Close this loop's pools (when the loop itself is about to end, e.g. outside Lambda)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _sessions if k[0] == loop_id]:
        await _sessions.pop(key)[1].close()


def close_all_sessions() -> None:
    """Close every pool of every loop (a process that ran loops on several threads is ending)."""
    for key in list(_sessions):
        loop, session = _sessions.pop(key)
        if not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(session.close())
        else:
            _drop(session)


async def post(
    url: str, body: bytes, headers: dict[str, str], timeout_seconds: float, allow_private: bool = False
) -> Outcome:
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, 10.0))
    try:
        if not allow_private:
            # aiohttp connects to an IP literal without asking the resolver: check it here.
            ssrf.check_literal(url)
        async with _session(allow_private).post(
            url,
            data=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout,
            allow_redirects=False,
        ) as resp:
            data = await resp.content.read(RESPONSE_EXCERPT_BYTES)
            if not resp.content.at_eof():
                resp.close()  # don't drain an oversized body into the pool
            status, retry_after_header = resp.status, resp.headers.get("Retry-After")
    except ssrf.UnsafeTargetError as exc:
        return Outcome(success=False, duration_ms=_ms(started), error=f"refused: {exc}", retryable=False)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        refusal = _unsafe_cause(exc)
        if refusal is not None:
            return Outcome(
                success=False, duration_ms=_ms(started), error=f"refused: {refusal}", retryable=False
            )
        return Outcome(success=False, duration_ms=_ms(started), error=_describe(exc, timeout_seconds))
    excerpt = data[:EXCERPT_KEPT_CHARS].decode("utf-8", errors="replace") or None
    ok = 200 <= status < 300
    return Outcome(
        success=ok,
        duration_ms=_ms(started),
        http_status=status,
        error=None if ok else f"HTTP {status}",
        response_excerpt=excerpt,
        retry_after=_retry_after(retry_after_header) if status in (429, 503) else None,
    )


def _unsafe_cause(exc: BaseException) -> ssrf.UnsafeTargetError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssrf.UnsafeTargetError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: BaseException, timeout_seconds: float) -> str:
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out after {timeout_seconds:g} s"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "host name could not be resolved"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused or unreachable"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError | aiohttp.ClientPayloadError):
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


def run(coro: Any) -> Any:
    """Run one coroutine to completion on a fresh loop, closing its pools (scripts and tests)."""

    async def wrapper() -> Any:
        try:
            return await coro
        finally:
            await close_sessions()

    return asyncio.run(wrapper())
