"""The structured log: its catalogue, ``--log-format json``, and no secret in any line.

The long test runs the real ``twistd -n blackjack --log-format json`` with bots
playing many rounds (and a few clients doing what leaks secrets elsewhere: a
wrong password, a password typed where the name goes, a resume token), then
reads every line of the log.
"""

from __future__ import annotations

import io
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.logger import Logger, LogLevel, globalLogPublisher
from twisted.python.failure import Failure

from blackjack.server import logevents
from blackjack.server.hosting.jsonlog import as_json, json_lines_observer
from blackjack.server.logevents import LOG_EVENTS, SECRET_FIELDS, LogEvent

from test_crash import NAMES, Room, Server, wait_for

_CARD = re.compile(r"(?<![A-Za-z0-9])(?:[2-9TJQKA]|10)[SHDC♠♥♦♣](?![A-Za-z0-9])")
"""A card as the wire (``7D``) or a screen (``7♦``) writes it."""


class Spy:
    """Collects every log event published while in use."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Spy:
        globalLogPublisher.addObserver(self.events.append)
        return self

    def __exit__(self, *exc: object) -> None:
        globalLogPublisher.removeObserver(self.events.append)


def test_a_kind_logs_its_fields_and_no_others() -> None:
    """Calling a kind logs its text with every field and ``event``; a field missing or
    unknown is a TypeError, so no event leaves with a shape the catalogue does not say."""
    with Spy() as spy:
        logevents.LOGIN(Logger(namespace="test"), name="ann", account_id=3, peer="10.0.0.7",
                        how="password")
    [event] = [e for e in spy.events if e.get("log_namespace") == "test"]
    assert (event["event"], event["name"], event["peer"], event["log_level"]) == (
        "login", "ann", "10.0.0.7", LogLevel.info)
    with pytest.raises(TypeError, match=r"missing \['how'\], unknown \['password'\]"):
        logevents.LOGIN(Logger(), name="ann", account_id=3, peer="x", password="oops")


def test_every_kind_reads_as_twisted_would_format_its_text() -> None:
    """A kind's line (rendered once, by str.format) reads exactly as Twisted's formatting
    of its text with the same fields, braces and all, for every kind."""
    from twisted.logger import formatEvent

    for number, kind in enumerate(logevents.LOG_EVENTS.values()):
        values = {field: (number + 7 if i % 2 else f"{field} {{with}} braces}}")
                  for i, field in enumerate(sorted(kind.fields))}
        with Spy() as spy:
            kind(Logger(namespace="twin"), **values)
        [event] = [e for e in spy.events if e.get("log_namespace") == "twin"]
        assert formatEvent(event) == formatEvent({"log_format": kind.text, **values})
        assert {k: event[k] for k in values} == values


def test_no_kind_may_carry_a_secret() -> None:
    """A kind with a field named like a secret cannot be made, and none in the catalogue is."""
    for field in ("password", "seed", "token", "hole_card"):
        with pytest.raises(ValueError, match="may not be logged"):
            LogEvent("bad", LogLevel.info, "", "name", field, doc="")
    assert all(not (kind.fields & SECRET_FIELDS) for kind in LOG_EVENTS.values())


def test_a_json_line_has_the_fields_and_drops_secret_keys() -> None:
    """One event is one JSON line: time, level, namespace, the text, its fields, a
    traceback for a failure; a key named like a secret is left out, whoever logged it."""
    out = io.StringIO()
    log = Logger(namespace="test", observer=json_lines_observer(out))
    log.info("{name} did {what}", name="ann", what="a thing", password="hunter2",
             seed="abc", event="custom")
    try:
        1 / 0
    except ZeroDivisionError:
        log.failure("it broke at {where}", Failure(), where="here")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["text"] == "ann did a thing" and first["level"] == "info"
    assert (first["name"], first["event"], first["namespace"]) == ("ann", "custom", "test")
    assert "password" not in first and "seed" not in first
    assert first["time"].endswith("+00:00")
    assert "ZeroDivisionError" in second["traceback"] and second["level"] == "critical"
    assert "hunter2" not in out.getvalue()
    assert as_json({"log_format": "x"}).endswith("}\n")


@pytest_twisted.ensureDeferred
async def test_a_long_run_logs_no_password_token_or_card(tmp_path: Path) -> None:
    """Bots play 500 rounds on the real twistd with --log-format json; a stranger fails a
    password, types a password where the name goes, and a program takes a resume token.
    Every log line is a JSON object; none holds a password, a token, a shoe's server
    seed or any card (so no hole card before, or after, its reveal); logins, logouts,
    disconnects with their reason, failed logins and each settled round (by its id) are
    there as events."""
    log = tmp_path / "twistd.log"
    # --rate 0: the bots answer at once, faster than a person's command rate; and they
    # play at random, so a bankroll that outlasts 500 rounds.
    server = Server(str(tmp_path / "room.sqlite3"), log, "--log-format", "json",
                    "--bet-time", "1", "--rate", "0", "--bankroll", "1000000")
    room: Room | None = None
    results: set[str] = set()
    seeds: set[str] = set()
    try:
        room = await Room.enter(server, "register", seed=7)
        for bot in room.bots:
            bot.client.on("result", lambda e: results.add(e["round"]))
            bot.client.on("shoe_retired", lambda e: seeds.add(e["server_seed"]))
        stranger = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        stranger.sendall(b"login crashann wrong-pw-crashann\r\n"
                         b"login pw-crashbob\r\npw-crashbob\r\n"
                         b'{"id": 1, "cmd": "hello", "protocol": 1}\r\n')
        program = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        program.sendall(b'{"id": 1, "cmd": "hello", "protocol": 1}\r\n'
                        b'{"id": 2, "cmd": "login", "name": "crashcat", '
                        b'"password": "pw-crashcat"}\r\n{"id": 3, "cmd": "token"}\r\n')
        reader = _Reader(program)
        token = await wait_for(reader.token, 30, "the resume token", server)
        playing = room
        await wait_for(lambda: playing.rounds >= 500, 240, "500 rounds", server)
        stranger.close()
        program.close()
        room.close()
        room = None
        await wait_for(lambda: log.read_text().count('"event": "logout"') >= 5, 30,
                       "the logouts", server)
    finally:
        if room is not None:
            room.close()
        server.stop()

    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(seeds) >= 10  # shoes retired through the run, each seed told to the table
    secrets = [f"pw-{name}" for name in NAMES] + ["wrong-pw-crashann", token, *seeds]
    for line in lines:
        assert not any(secret in line for secret in secrets), line
        assert not _CARD.search(line), line
    assert not any(SECRET_FIELDS & record.keys() for record in records)

    events: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if "event" in record:
            events.setdefault(record["event"], []).append(record)
    assert {r["name"] for r in events["login"]} >= set(NAMES)
    assert {r["name"] for r in events["logout"]} >= set(NAMES)
    assert {r["reason"] for r in events["login_failed"]} == {"password"}
    # The wrong password on a real name names it; a password in the name's place does not.
    assert sorted(r["name"] for r in events["login_failed"]) == ["", "crashann"]
    assert {r["why"] for r in events["disconnect"]} >= {"client"}
    settled = {r["round_id"] for r in events["round_settled"]}
    assert results <= settled and len(results) >= 250  # each round the bots saw paid, by id


class _Reader:
    """What a program's socket has received, searched for its resume token."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = b""

    def token(self) -> str | None:
        self.sock.settimeout(0.05)
        try:
            self.received += self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            pass
        match = re.search(rb'"token":"([^"]+)"', self.received)
        return match.group(1).decode() if match else None


def test_twistd_is_pointed_at_the_json_observer(tmp_path: Path) -> None:
    """``twistd blackjack --log-format json`` sets twistd's own --logger to the JSON
    observer, which writes to --logfile; beside --logger it is a usage error."""
    from twisted.python.usage import UsageError
    from twisted.scripts.twistd import ServerOptions

    from blackjack.server.hosting import jsonlog

    config = ServerOptions()
    log = tmp_path / "bj.log"
    config.parseOptions(["-n", "--logfile", str(log), "blackjack", "--log-format", "json"])
    assert config["logger"] is jsonlog.observer
    observer = config["logger"]()
    observer({"log_format": "{who} was here", "who": "ann", "log_time": 0.0,
              "log_level": LogLevel.info, "log_namespace": "test"})
    assert json.loads(log.read_text())["text"] == "ann was here"
    with pytest.raises(UsageError, match="leave out twistd's --logger"):
        ServerOptions().parseOptions(["-n", "--logger", "twisted.logger.textFileLogObserver",
                                      "blackjack", "--log-format", "json"])
    with pytest.raises(UsageError, match="--log-format is text or json"):
        ServerOptions().parseOptions(["-n", "blackjack", "--log-format", "xml"])
