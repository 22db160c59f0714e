"""One saver, one kept-alive connection: proven on a real socket, counting the connections a
small HTTP/1.1 server accepts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig

from devskyy_langgraph import DevskyyCheckpointSaver

CONFIG: RunnableConfig = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
NOT_FOUND = b'{"code": "not_found", "detail": "No such thread."}'


class NotFound(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(NOT_FOUND)))
        self.end_headers()
        self.wfile.write(NOT_FOUND)

    def log_message(self, format: str, *args: object) -> None:
        pass


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1  # called by the one serving thread
        super().process_request(request, client_address)


@pytest.fixture
def server() -> Iterator[CountingServer]:
    httpd = CountingServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_sync_calls_share_one_connection_until_closed(server: CountingServer) -> None:
    saver = DevskyyCheckpointSaver(base_url=f"http://127.0.0.1:{server.server_port}", api_key="k")

    with saver:
        for _ in range(3):
            assert saver.get_tuple(CONFIG) is None
    assert server.connections == 1

    assert saver.get_tuple(CONFIG) is None  # a closed saver opens a new connection
    saver.close()
    assert server.connections == 2


def test_async_calls_share_one_connection_per_event_loop(server: CountingServer) -> None:
    saver = DevskyyCheckpointSaver(base_url=f"http://127.0.0.1:{server.server_port}", api_key="k")

    async def three_reads() -> None:
        for _ in range(3):
            assert await saver.aget_tuple(CONFIG) is None

    asyncio.run(three_reads())
    assert server.connections == 1
    # a second event loop cannot use the first one's connection: the saver opens another
    asyncio.run(three_reads())
    assert server.connections == 2

    async def close() -> None:
        await saver.aclose()

    asyncio.run(close())  # under a third loop: the second one's client is dropped, not closed
