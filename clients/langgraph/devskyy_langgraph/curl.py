"""``CurlTransport``: httpx's sync transport interface, served by libcurl (pycurl).

The saver's sync calls go through it by default. httpx's own ``HTTPTransport`` parses and
validates HTTP in pure Python (httpcore and h11); for a LangGraph step's small requests that was
most of the client's CPU time, about twice what libcurl spends per request. The saver's code
above it is unchanged: it builds ``httpx.Request`` objects and reads ``httpx.Response`` ones, and
a network failure is raised as the httpx exception that ``httpx.HTTPTransport`` raises for it, so
the retries (``devskyy_langgraph.transport``) and callers see the same errors either way.

- Connections: each libcurl handle keeps its connection alive and reuses it. Handles are pooled:
  a call takes an idle one (or opens one) and puts it back, so a saver shared by N threads keeps
  at most N connections. ``close()`` closes them; a later call opens new ones.
- Timeouts (the request's ``timeout`` extension, as httpx sets it): ``connect`` bounds
  connecting; ``read`` (and ``write``) end a call after that many seconds (rounded up to a whole
  second, libcurl's unit here) without a byte moving either way.
- HTTP/1.1 only, no redirects followed (as ``httpx.HTTPTransport``), no proxy from the
  environment (as the saver's httpx transports: pass ``transport=httpx.HTTPTransport(proxy=...)``
  for a proxy). HTTPS verifies the server against ``certifi``'s certificates, httpx's default.
"""

from __future__ import annotations

import io
import math
import threading

import certifi
import httpx
import pycurl

# libcurl's error codes (curl/curl.h) and the httpx exception httpx.HTTPTransport raises for the
# same failure; any other code is an httpx.TransportError, which the saver does not retry.
CONNECT_FAILURES = frozenset(
    {
        pycurl.E_COULDNT_RESOLVE_PROXY,
        pycurl.E_COULDNT_RESOLVE_HOST,
        pycurl.E_COULDNT_CONNECT,
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_PEER_FAILED_VERIFICATION,
    }
)
ERRORS: dict[int, type[httpx.TransportError]] = {
    pycurl.E_UNSUPPORTED_PROTOCOL: httpx.UnsupportedProtocol,
    pycurl.E_URL_MALFORMAT: httpx.UnsupportedProtocol,
    pycurl.E_FTP_WEIRD_SERVER_REPLY: httpx.RemoteProtocolError,  # 8, CURLE_WEIRD_SERVER_REPLY
    pycurl.E_PARTIAL_FILE: httpx.RemoteProtocolError,
    pycurl.E_GOT_NOTHING: httpx.RemoteProtocolError,  # the server closed without answering
    pycurl.E_SEND_ERROR: httpx.WriteError,
    pycurl.E_RECV_ERROR: httpx.ReadError,
    **dict.fromkeys(CONNECT_FAILURES, httpx.ConnectError),
}
NO_EXPECT = b"Expect:"  # libcurl would otherwise ask a large body's server for "100 Continue"


class _Handle:
    """A libcurl handle with the buffers its callbacks fill, set up once."""

    def __init__(self) -> None:
        self.curl = pycurl.Curl()
        self.body = io.BytesIO()
        self.header_lines: list[bytes] = []
        self.configure()

    def configure(self) -> None:
        """The options every request shares (again after ``reset()``, which clears them but
        keeps the handle's connection)."""
        curl = self.curl
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without signals: safe in threads
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        curl.setopt(pycurl.PROXY, "")  # not the environment's
        curl.setopt(pycurl.CAINFO, certifi.where())
        curl.setopt(pycurl.WRITEFUNCTION, self.body.write)
        curl.setopt(pycurl.HEADERFUNCTION, self.header_lines.append)

    def start(self) -> None:
        """Empty buffers and the options of the previous request."""
        self.body.seek(0)
        self.body.truncate()
        self.header_lines.clear()
        self.curl.reset()
        self.configure()


class CurlTransport(httpx.BaseTransport):
    """A sync httpx transport on libcurl (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Handle] = []
        self._closed_at = 0  # bumped by close(): handles of an earlier generation are closed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        handle, generation = self._take()
        try:
            status, headers = self._perform(handle, request)
            content = handle.body.getvalue()
        except BaseException:
            handle.curl.close()  # its connection's state is unknown
            raise
        self._give_back(handle, generation)
        return httpx.Response(
            status,
            headers=headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._closed_at += 1
        for handle in idle:
            handle.curl.close()

    # --- one request --------------------------------------------------------------------------

    def _take(self) -> tuple[_Handle, int]:
        with self._lock:
            generation = self._closed_at
            if self._idle:
                handle = self._idle.pop()
                handle.start()
                return handle, generation
        return _Handle(), generation

    def _give_back(self, handle: _Handle, generation: int) -> None:
        with self._lock:
            if generation == self._closed_at:
                self._idle.append(handle)
                return
        handle.curl.close()  # closed meanwhile: its connection goes too

    def _perform(
        self, handle: _Handle, request: httpx.Request
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        curl = handle.curl
        curl.setopt(pycurl.URL, str(request.url))
        fields = [b"%s: %s" % pair for pair in request.headers.raw]
        curl.setopt(pycurl.HTTPHEADER, [*fields, NO_EXPECT])
        method = request.method
        body = request.read()
        if method == "GET" and not body:
            pass  # libcurl's default
        elif method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        else:
            if body or method in ("POST", "PUT", "PATCH"):
                curl.setopt(pycurl.POSTFIELDSIZE, len(body))
                curl.setopt(pycurl.COPYPOSTFIELDS, body)
            if method != "POST":
                curl.setopt(pycurl.CUSTOMREQUEST, method)
        _set_timeouts(curl, request.extensions.get("timeout", {}))
        try:
            curl.perform()
        except pycurl.error as error:
            raise _transport_error(curl, error, request) from None
        return curl.getinfo(pycurl.RESPONSE_CODE), _headers(handle.header_lines)


def _set_timeouts(curl: pycurl.Curl, timeout: dict[str, float | None]) -> None:
    connect = timeout.get("connect")
    if connect is not None:
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(connect * 1000)))
    idle = [value for value in (timeout.get("read"), timeout.get("write")) if value is not None]
    if idle:
        curl.setopt(pycurl.LOW_SPEED_LIMIT, 1)  # fewer than 1 byte a second ...
        curl.setopt(pycurl.LOW_SPEED_TIME, max(1, math.ceil(max(idle))))  # ... for this long


def _headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The final response's header fields from libcurl's header lines (status lines included,
    one block per response: a 1xx answer's block comes before the final one)."""
    fields: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line.startswith(b"HTTP/"):
            fields.clear()
            continue
        name, colon, value = line.partition(b":")
        if colon:
            fields.append((name.strip(), value.strip()))
    return fields


def _transport_error(
    curl: pycurl.Curl, error: pycurl.error, request: httpx.Request
) -> httpx.TransportError:
    match error.args:
        case (int() as code, str() as message):  # libcurl's error code and message
            pass
        case _:  # pycurl refusing an argument: (message,)
            code, message = -1, str(error)
    kind: type[httpx.TransportError]
    if code == pycurl.E_OPERATION_TIMEDOUT:
        sent = curl.getinfo(pycurl.REQUEST_SIZE) > 0  # the request went out: it was connected
        kind = httpx.ReadTimeout if sent else httpx.ConnectTimeout
    else:
        kind = ERRORS.get(code, httpx.TransportError)
    return kind(f"{message} (libcurl error {code})", request=request)
