"""The saver's sync calls go over libcurl (``devskyy_langgraph.curl.CurlTransport``): what it
sends, what it reads back, how it keeps and replaces connections, and how each way a connection
can fail is raised (the httpx exception ``httpx.HTTPTransport`` raises for it, which the saver's
retries know). The server is a real socket on 127.0.0.1, scripted per connection."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from langchain_core.runnables import RunnableConfig

from devskyy_langgraph import DevskyyCheckpointSaver
from devskyy_langgraph.curl import CurlTransport
from tests.langgraph_client.conftest import Waits

CONFIG: RunnableConfig = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
NOT_FOUND = b'{"code": "not_found", "detail": "No such thread."}'


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def read_request(conn: socket.socket, buffer: bytearray) -> Received | None:
    """The next request on the connection (None: the client closed it)."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    buffer[:] = rest[length:]
    method, target, _ = request_line.split(" ")
    return Received(method, target, headers, rest[:length])


def answer(status: int, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *headers, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


Session = Callable[[socket.socket, "Server"], None]


@dataclass
class Server:
    """Serves each accepted connection with ``session`` in a thread of its own."""

    session: Session
    listener: socket.socket = field(default_factory=socket.socket)
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def start(self) -> None:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed at the end of the test
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.session(conn, self)


def echo(conn: socket.socket, server: Server) -> None:
    """Answers every request on the connection, 200 with its target as the body, kept alive."""
    buffer = bytearray()
    while (request := read_request(conn, buffer)) is not None:
        server.received.append(request)
        conn.sendall(answer(200, request.target.encode(), "X-Seen: 1", "X-Seen: 2"))


@pytest.fixture
def serve() -> Iterator[Callable[[Session], Server]]:
    servers: list[Server] = []

    def start(session: Session) -> Server:
        servers.append(Server(session))
        servers[-1].start()
        return servers[-1]

    yield start
    for server in servers:
        server.listener.close()


@pytest.fixture
def transport() -> Iterator[CurlTransport]:
    curl = CurlTransport()
    yield curl
    curl.close()


def timeout(seconds: float) -> dict[str, dict[str, float | None]]:
    return {"timeout": httpx.Timeout(seconds).as_dict()}


# --- what goes out and what comes back ----------------------------------------------------------


def test_a_post_sends_its_method_headers_and_body_as_given(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    server = serve(echo)

    request = httpx.Request(
        "POST",
        f"{server.url}/api/v1/threads/a%20b/writes/",
        headers={"Authorization": "Api-Key k", "Accept": "application/json"},
        json={"writes": ["é", 1]},
    )
    response = transport.handle_request(request)

    (received,) = server.received
    assert (received.method, received.target) == ("POST", "/api/v1/threads/a%20b/writes/")
    assert received.body == request.content
    assert received.headers["content-type"] == "application/json"
    assert received.headers["content-length"] == str(len(request.content))
    assert received.headers["authorization"] == "Api-Key k"
    assert "expect" not in received.headers  # no "100 Continue" round trip
    assert response.status_code == 200
    assert response.read() == b"/api/v1/threads/a%20b/writes/"
    assert response.headers.get_list("X-Seen") == ["1", "2"]
    assert response.request is request


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD", "PUT"])
def test_other_methods_are_sent_as_themselves(
    serve: Callable[[Session], Server], transport: CurlTransport, method: str
) -> None:
    server = serve(echo)

    response = transport.handle_request(httpx.Request(method, f"{server.url}/x/?a=1"))

    (received,) = server.received
    assert (received.method, received.target, received.body) == (method, "/x/?a=1", b"")
    assert response.status_code == 200
    assert response.read() == (b"" if method == "HEAD" else b"/x/?a=1")


def test_an_interim_100_answer_is_not_mistaken_for_the_final_one(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    def continue_first(conn: socket.socket, server: Server) -> None:
        read_request(conn, bytearray())
        conn.sendall(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
        conn.sendall(answer(201, b"{}", "Content-Type: application/json"))

    server = serve(continue_first)

    response = transport.handle_request(httpx.Request("POST", f"{server.url}/", content=b"{}"))

    assert response.status_code == 201
    assert "X-Interim" not in response.headers
    assert response.headers["Content-Type"] == "application/json"


# --- connections --------------------------------------------------------------------------------


def test_calls_in_turn_reuse_one_connection_and_threads_get_one_each(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    server = serve(echo)
    for n in range(5):
        assert transport.handle_request(httpx.Request("GET", f"{server.url}/{n}")).read()
    assert server.connections == 1

    # eight threads at once: each answer is its own request's, over at most eight connections
    answers: dict[int, bytes] = {}

    def call(n: int) -> None:
        for m in range(20):
            target = f"/{n}/{m}"
            response = transport.handle_request(httpx.Request("GET", server.url + target))
            answers[n * 100 + m] = response.read()
            assert response.read() == target.encode()

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 160
    assert server.connections <= 1 + 8


def test_a_connection_the_server_closed_while_idle_is_replaced_unnoticed(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    def one_answer_each(conn: socket.socket, server: Server) -> None:
        request = read_request(conn, bytearray())
        assert request is not None
        conn.sendall(answer(200, b"ok"))
        # then the server closes the kept-alive connection (a worker restarted)

    server = serve(one_answer_each)
    for _ in range(3):
        response = transport.handle_request(httpx.Request("GET", f"{server.url}/"))
        assert (response.status_code, response.read()) == (200, b"ok")
        time.sleep(0.05)  # the close arrives before the next call
    assert server.connections == 3


def test_close_closes_the_connections_and_a_later_call_opens_a_new_one(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    server = serve(echo)
    transport.handle_request(httpx.Request("GET", f"{server.url}/"))

    transport.close()
    transport.handle_request(httpx.Request("GET", f"{server.url}/"))

    assert server.connections == 2


# --- failures, raised as httpx raises them ------------------------------------------------------


def test_a_refused_connection_is_a_connect_error(transport: CurlTransport) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens on it

    with pytest.raises(httpx.ConnectError, match="libcurl error 7"):
        transport.handle_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))


def test_a_server_that_never_answers_is_a_read_timeout(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    def silent(conn: socket.socket, server: Server) -> None:
        read_request(conn, bytearray())
        time.sleep(5)

    server = serve(silent)
    started = time.monotonic()

    with pytest.raises(httpx.ReadTimeout):
        transport.handle_request(httpx.Request("GET", f"{server.url}/", extensions=timeout(1)))

    assert 0.9 < time.monotonic() - started < 4


def test_a_connection_that_cannot_be_made_in_time_is_a_connect_timeout(
    transport: CurlTransport,
) -> None:
    # a listener whose queue of pending connections is full: a new one is never accepted
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        waiting = []
        for _ in range(4):
            pending = socket.socket()
            pending.setblocking(False)
            pending.connect_ex(("127.0.0.1", port))
            waiting.append(pending)
        try:
            with pytest.raises(httpx.ConnectTimeout):
                transport.handle_request(
                    httpx.Request("GET", f"http://127.0.0.1:{port}/", extensions=timeout(0.5))
                )
        finally:
            for pending in waiting:
                pending.close()


def test_a_connection_closed_without_an_answer_is_a_remote_protocol_error(
    serve: Callable[[Session], Server], transport: CurlTransport
) -> None:
    def hang_up(conn: socket.socket, server: Server) -> None:
        read_request(conn, bytearray())

    server = serve(hang_up)

    with pytest.raises(httpx.RemoteProtocolError):
        transport.handle_request(httpx.Request("GET", f"{server.url}/"))


# --- through the saver ------------------------------------------------------------------------


def test_the_saver_retries_a_503_over_curl_after_its_retry_after(
    serve: Callable[[Session], Server], waits: Waits
) -> None:
    def busy_then_not_found(conn: socket.socket, server: Server) -> None:
        buffer = bytearray()
        read_request(conn, buffer)
        conn.sendall(answer(503, b'{"code": "busy"}', "Retry-After: 7"))
        read_request(conn, buffer)
        conn.sendall(answer(404, NOT_FOUND, "Content-Type: application/json"))

    server = serve(busy_then_not_found)
    saver = DevskyyCheckpointSaver(base_url=server.url, api_key="k", sleep=waits.sleep)

    with saver:
        assert saver.get_tuple(CONFIG) is None  # the 404 of a thread it cannot see

    assert waits == [7.0]
    assert server.connections == 1


def test_the_saver_retries_a_refused_connection_then_raises_it(waits: Waits) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    saver = DevskyyCheckpointSaver(
        base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=2, sleep=waits.sleep
    )

    with saver, pytest.raises(httpx.ConnectError):
        saver.get_tuple(CONFIG)

    assert len(waits) == 2
