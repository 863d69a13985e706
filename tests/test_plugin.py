"""Packaging and options: an installed package ships the twistd plugin, options parse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted

from blackjack.server.frontends.limits import Limits

from conftest import wait

REPO = Path(__file__).resolve().parent.parent


def test_the_plugin_directory_is_a_namespace() -> None:
    """No __init__.py under twisted/, which would hide Twisted's own plugins."""
    assert (REPO / "twisted" / "plugins" / "blackjack_plugin.py").exists()
    assert not (REPO / "twisted" / "__init__.py").exists()
    assert not (REPO / "twisted" / "plugins" / "__init__.py").exists()


def test_the_plugin_options_parse_tables_and_refuse_bad_rules() -> None:
    """--table NAME:SPEC builds rules; a bad spec is a usage error naming the table."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import DEFAULT_TABLES, Options

    options = Options()
    options.parseOptions([])
    assert [name for name, _ in options["tables"]] == [n for n, _ in DEFAULT_TABLES]
    options = Options()
    options.parseOptions(["--table", "high:decks=8,h17,min=100,max=5000", "-t", "low:min=1"])
    (high, rules), (low, _) = options["tables"]
    assert (high, rules.decks, rules.dealer_hits_soft_17, rules.min_bet) == ("high", 8, True, 100)
    with pytest.raises(UsageError, match="table bad: decks must be 1 to 8"):
        Options().parseOptions(["--table", "bad:decks=9"])


def test_a_fresh_venv_install_lists_blackjack_in_twistd(tmp_path: Path) -> None:
    """``pip install '.[server]'`` (not editable) into a new venv ships the plugin to twistd."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", f"{REPO}[server]"],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run([str(venv / "bin" / "twistd"), "--help"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=120)
    assert "blackjack" in out.stdout, out.stdout + out.stderr
    usage = subprocess.run([str(venv / "bin" / "twistd"), "blackjack", "--help"],
                           cwd=tmp_path, capture_output=True, text=True, env=env,
                           timeout=120)
    assert "--turn-time" in usage.stdout


def test_telnet_and_the_page_listen_by_default_and_each_repeats() -> None:
    """No options: telnet on 8023 and the page on 8080; --listen and --web repeat; none is off."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options

    options = Options()
    options.parseOptions([])
    assert (options["listen"], options["web"]) == (["tcp:8023"], ["tcp:8080"])
    options = Options()
    options.parseOptions(["-l", "tcp:23", "--listen", "ssl:992:privateKey=k:certKey=c",
                          "--web", "none", "--web-origin", "https://cards.example.org"])
    assert options["listen"] == ["tcp:23", "ssl:992:privateKey=k:certKey=c"]
    assert options["web"] == [] and options["web-origins"] == ["https://cards.example.org"]
    options = Options()
    options.parseOptions(["--listen", "none", "--web", "tcp:80", "--web", "ssl:443:k=v"])
    assert (options["listen"], options["web"]) == ([], ["tcp:80", "ssl:443:k=v"])
    with pytest.raises(UsageError, match="nothing to listen on"):
        Options().parseOptions(["--listen", "none", "--web", "none"])
    with pytest.raises(UsageError, match="--web none cannot go with"):
        Options().parseOptions(["--web", "none", "--web", "tcp:80"])


LIMIT_OPTIONS = ["max-line", "rate", "burst", "chat-rate", "chat-burst", "max-per-ip",
                 "max-connections", "idle-timeout", "login-attempts",
                 "login-attempts-per-ip", "login-period", "registrations-per-hour",
                 "output-cap", "password-cost"]


def test_every_limit_is_a_documented_option_with_the_library_default() -> None:
    """``twistd blackjack --help`` lists each limit, and no options give Limits()."""
    from blackjack.server.hosting.tap import Options

    usage = str(Options())
    for name in LIMIT_OPTIONS:
        assert f"--{name}=" in usage, name
    assert "fast-insecure hashes are cheap to crack" in " ".join(usage.split())
    options = Options()
    options.parseOptions([])
    assert options["limits"] == Limits()
    assert options["password-cost"] == "default"


def test_limit_options_build_the_limits() -> None:
    """Each limit option lands in the Limits value; 256k means 262144 bytes."""
    from blackjack.server.hosting.tap import Options

    options = Options()
    options.parseOptions([
        "--max-line", "512", "--rate", "10", "--burst", "40", "--chat-rate", "0.5",
        "--chat-burst", "2", "--max-per-ip", "10000", "--max-connections", "50000",
        "--idle-timeout", "0", "--login-attempts", "3", "--login-attempts-per-ip", "10000",
        "--login-period", "60", "--registrations-per-hour", "10000", "--output-cap", "64k"])
    assert options["limits"] == Limits(
        max_line=512, rate=10, burst=40, chat_rate=0.5, chat_burst=2, max_per_ip=10000,
        max_connections=50000, idle_timeout=0, login_attempts=3,
        login_attempts_per_ip=10000, login_period=60, registrations_per_hour=10000,
        output_cap=65536)


def test_seat_options_build_the_table_timers_with_their_defaults() -> None:
    """--missed-rounds and --table-idle-timeout default to Timers()'s and reach the tables."""
    from blackjack.server.core.table import Timers
    from blackjack.server.hosting.tap import Options

    usage = str(Options())
    assert "--missed-rounds=" in usage and "--table-idle-timeout=" in usage
    options = Options()
    options.parseOptions([])
    defaults = Timers()
    assert (options["missed-rounds"], options["table-idle-timeout"]) == (
        defaults.missed_rounds, defaults.idle)
    options = Options()
    options.parseOptions(["--missed-rounds", "0", "--table-idle-timeout", "0"])
    assert (options["missed-rounds"], options["table-idle-timeout"]) == (0, 0)


@pytest.mark.parametrize("argv", [
    ["--missed-rounds", "-1"], ["--table-idle-timeout", "-1"], ["--missed-rounds", "x"]])
def test_bad_seat_options_are_usage_errors(argv: list[str]) -> None:
    """A negative or non-numeric seat option is refused at start-up."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options

    with pytest.raises(UsageError):
        Options().parseOptions(argv)


@pytest.mark.parametrize("argv", [
    ["--max-line", "0"], ["--rate", "-1"], ["--burst", "0"], ["--max-per-ip", "-2"],
    ["--output-cap", "0k"], ["--output-cap", "lots"], ["--idle-timeout", "-5"],
    ["--password-cost", "cheap"], ["--login-attempts", "0"]])
def test_bad_limit_options_are_usage_errors(argv: list[str]) -> None:
    """A nonsensical limit is refused at start-up, not discovered under load."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options

    with pytest.raises(UsageError):
        Options().parseOptions(argv)


@pytest_twisted.ensureDeferred
async def test_make_service_applies_the_limits_and_password_cost(tmp_path: Path) -> None:
    """makeService hands the limits to the factory and throttle, and warns about cheap hashes."""
    from twisted.internet import reactor
    from twisted.logger import globalLogPublisher

    from blackjack.server.core.passwords import FAST_INSECURE
    from blackjack.server.hosting.tap import Options, makeService

    options = Options()
    options.parseOptions(["--db", str(tmp_path / "bj.sqlite3"), "--max-per-ip", "7",
                          "--login-attempts-per-ip", "1", "--password-cost", "fast-insecure"])
    logged: list[dict[str, object]] = []
    globalLogPublisher.addObserver(logged.append)
    try:
        service = makeService(options, reactor)
    finally:
        globalLogPublisher.removeObserver(logged.append)
    try:
        assert service.factory.limits.max_per_ip == 7  # type: ignore[attr-defined]
        assert service.factory.clock is reactor  # type: ignore[attr-defined]
        assert service.accounts.hasher == FAST_INSECURE  # type: ignore[attr-defined]
        throttle = service.accounts.throttle  # type: ignore[attr-defined]
        throttle.begin("127.0.0.1", "alice")
        assert not throttle.allowed("127.0.0.1", "bob")
        assert any("INSECURE" in str(e.get("log_format")) for e in logged)
    finally:
        await wait(service.storage.close())  # type: ignore[attr-defined]


def test_db_takes_a_path_or_a_postgresql_url() -> None:
    """--db keeps a path or URL as given; --db-url takes only a PostgreSQL URL, alone."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options

    for argv, expected in [([], "blackjack.sqlite3"),
                           (["--db", "postgresql://bj@db/room"], "postgresql://bj@db/room"),
                           (["--db-url", "postgres://bj@db/room"], "postgres://bj@db/room")]:
        options = Options()
        options.parseOptions(argv)
        assert options["db"] == expected
    with pytest.raises(UsageError, match="not both"):
        Options().parseOptions(["--db", "x.sqlite3", "--db-url", "postgresql://bj@db/room"])
    with pytest.raises(UsageError, match=r"postgresql:// URL, not 'mysql://bj:\*\*\*@db/x'"):
        Options().parseOptions(["--db-url", "mysql://bj:pw@db/x"])


def test_node_options_make_a_node_of_a_room(tmp_path: Path) -> None:
    """--node with a PostgreSQL --db and a secret file builds the node's options; without
    either, or with a short secret or a bad name, it is a usage error saying why."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options
    from blackjack.server.room.node import NodeOptions

    secret = tmp_path / "secret"
    secret.write_text("sixteen bytes or more\n")
    url = "postgresql://blackjack@db/room"
    options = Options()
    options.parseOptions(["--db", url, "--node", "n1", "--node-secret-file", str(secret),
                          "--node-listen", "tcp:9024:interface=10.0.0.5",
                          "--node-address", "10.0.0.5:9024", "--lease", "4"])
    assert options["room"] == NodeOptions(
        name="n1", listen="tcp:9024:interface=10.0.0.5", secret=b"sixteen bytes or more",
        address="10.0.0.5:9024", lease=4.0, drain=120.0, move_wait=8.0)
    alone = Options()
    alone.parseOptions([])
    assert alone.get("room") is None
    short = tmp_path / "short"
    short.write_text("tiny")
    for argv, why in (
            (["--node", "n1", "--node-secret-file", str(secret)], "needs a PostgreSQL --db"),
            (["--db", url, "--node", "n1"], "needs --node-secret-file"),
            (["--db", url, "--node", "n1", "--node-secret-file", str(short)],
             "at least 16 bytes"),
            (["--db", url, "--node", "n1", "--node-secret-file", str(tmp_path / "none")],
             "cannot read --node-secret-file"),
            (["--db", url, "--node", "no good", "--node-secret-file", str(secret)],
             "node name"),
            (["--db", url, "--node", "n1", "--node-secret-file", str(secret),
              "--node-address", "nowhere"], "HOST:PORT")):
        with pytest.raises(UsageError, match=why):
            Options().parseOptions(argv)
