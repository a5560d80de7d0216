"""image_verify reads the verification container through community.docker's public client API."""

from __future__ import annotations

import struct

import pytest

from ansible_collections.vextrus.deploy.plugins.modules.image_verify import container_state_and_logs

CRASHED = {"Status": "exited", "Running": False, "ExitCode": 1}


class PublicClient:
    """Offers only the public methods of community.docker's client that the module may call."""

    def __init__(self, inspect: dict | None, body: bytes) -> None:
        self.inspect = inspect
        self.body = body
        self.calls: list[tuple] = []

    def get_container(self, name: str) -> dict | None:
        self.calls.append(("get_container", name))
        return self.inspect

    def get_binary(self, pathfmt: str, *args: str, **kwargs) -> bytes:
        self.calls.append(("get_binary", pathfmt, args, kwargs["params"]))
        return self.body


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


@pytest.mark.parametrize(
    ("tty", "body", "logs"),
    [
        (False, _frame(1, b"starting\n") + _frame(2, b"Error: Cannot find module '@nestjs/core'\n"),
         "starting\nError: Cannot find module '@nestjs/core'\n"),
        (True, b"starting\r\nError: Cannot find module '@nestjs/core'\r\n", "starting\r\nError: Cannot find module '@nestjs/core'\r\n"),
    ],
)
def test_state_and_logs_of_the_container(tty, body, logs):
    client = PublicClient({"Id": "c0ffee", "State": CRASHED, "Config": {"Tty": tty}}, body)
    assert container_state_and_logs(client, "image-verify-finance") == (CRASHED, logs)
    assert client.calls == [
        ("get_container", "image-verify-finance"),
        ("get_binary", "/containers/{0}/logs", ("c0ffee",), {"stdout": 1, "stderr": 1, "timestamps": 0, "follow": 0, "tail": "all"}),
    ]


def test_a_missing_container_has_no_state_and_no_logs():
    client = PublicClient(None, b"")
    assert container_state_and_logs(client, "gone") == ({}, "")
    assert client.calls == [("get_container", "gone")]
