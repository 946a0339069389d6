"""The suite must never reach the internet: the guard (pytest-socket, see pyproject) refuses it loudly."""

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_network_guard_refuses_non_loopback_hosts():
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("93.184.215.14", 80), timeout=1)


def test_network_guard_allows_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
