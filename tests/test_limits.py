"""The limit meters: token buckets, the command limiter's flood cut-off, connection counts."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from blackjack.server.frontends.limits import (
    CommandLimiter,
    ConnectionCounter,
    Limits,
    TokenBucket,
    Verdict,
)


def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    """A full bucket gives ``burst`` tokens at once, then ``rate`` a second."""
    clock = Clock()
    bucket = TokenBucket(2, 3, clock.seconds)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.advance(100)
    assert sum(bucket.take() for _ in range(10)) == 3


def test_a_clock_stepping_back_does_not_drain_the_bucket() -> None:
    """Time going backwards neither adds nor removes tokens."""
    clock = Clock()
    clock.advance(50)
    bucket = TokenBucket(1, 2, clock.seconds)
    clock.rightNow = 10
    assert [bucket.take(), bucket.take(), bucket.take()] == [True, True, False]


def test_over_the_rate_warns_once_then_drops_silently() -> None:
    """The first command over the rate is WARN, later ones DROP, and one within it resets."""
    clock = Clock()
    limiter = CommandLimiter(1, 2, clock.seconds)
    verdicts = [limiter.check() for _ in range(5)]
    assert verdicts == [Verdict.ACCEPT, Verdict.ACCEPT, Verdict.WARN, Verdict.DROP, Verdict.DROP]
    clock.advance(1)
    assert limiter.check() is Verdict.ACCEPT
    assert limiter.check() is Verdict.WARN


def test_sustained_flooding_at_ten_times_the_rate_is_cut_off_in_about_ten_seconds() -> None:
    """Input at 10x the rate is a flood after roughly FLOOD_SECONDS, not before."""
    clock = Clock()
    limiter = CommandLimiter(5, 20, clock.seconds)
    for tick in range(2000):
        clock.advance(0.02)  # 50 lines a second
        if limiter.check() is Verdict.FLOOD:
            break
    assert 9 <= clock.seconds() <= 12


def test_input_a_little_over_the_rate_is_never_a_flood() -> None:
    """Twice the rate for a long time only loses the excess lines."""
    clock = Clock()
    limiter = CommandLimiter(5, 20, clock.seconds)
    verdicts = []
    for _ in range(6000):
        clock.advance(0.1)
        verdicts.append(limiter.check())
    assert Verdict.FLOOD not in verdicts
    assert 0.45 < verdicts.count(Verdict.ACCEPT) / len(verdicts) < 0.55


def test_a_limiter_without_flood_never_disconnects() -> None:
    """With ``flood=False`` (chat) even a torrent only drops lines."""
    clock = Clock()
    limiter = CommandLimiter(1, 3, clock.seconds, flood=False)
    assert Verdict.FLOOD not in {limiter.check() for _ in range(10000)}


def test_connections_are_capped_per_host_and_in_total() -> None:
    """The per-host cap refuses the extra connection from one host, the total cap any."""
    counter = ConnectionCounter(max_total=3, max_per_host=2)
    assert counter.admit("10.0.0.1") is None
    assert counter.admit("10.0.0.1") is None
    assert "Too many connections from your address" in (counter.admit("10.0.0.1") or "")
    assert counter.admit("10.0.0.2") is None
    assert "full" in (counter.admit("10.0.0.3") or "")
    assert counter.total == 3
    counter.release("10.0.0.1")
    assert counter.from_host("10.0.0.1") == 1
    assert counter.admit("10.0.0.3") is None


def test_released_hosts_are_forgotten_and_hostless_addresses_count_in_total_only() -> None:
    """A host with no connections left costs no memory; UNIX peers skip the per-host cap."""
    counter = ConnectionCounter(max_total=10, max_per_host=1)
    counter.admit("10.0.0.1")
    counter.release("10.0.0.1")
    assert counter._by_host == {}
    assert [counter.admit(None), counter.admit(None)] == [None, None]
    assert counter.total == 2


def test_a_per_host_cap_of_zero_is_off() -> None:
    """``max_per_host=0`` lets one host open connections up to the total."""
    counter = ConnectionCounter(max_total=100, max_per_host=0)
    assert all(counter.admit("127.0.0.1") is None for _ in range(100))
    assert counter.admit("127.0.0.1") is not None


@pytest.mark.parametrize("field, value", [
    ("max_line", 0), ("output_cap", 0), ("burst", 0), ("max_connections", 0),
    ("rate", -1), ("max_per_ip", -1), ("idle_timeout", -5), ("login_period", 0)])
def test_nonsensical_limits_are_refused(field: str, value: float) -> None:
    """A Limits value with a nonsensical number raises ValueError naming the field."""
    with pytest.raises(ValueError, match=field):
        Limits(**{field: value})


def test_a_bucket_can_take_several_tokens_at_once() -> None:
    """``take(n)`` takes n tokens only if all are there, and leaves the bucket alone if not."""
    clock = Clock()
    bucket = TokenBucket(1, 10, clock.seconds)
    assert bucket.take(7)
    assert not bucket.take(4)
    assert bucket.take(3)
    assert not bucket.take()


def test_the_telnet_budget_is_an_option_with_the_library_default() -> None:
    """``--telnet-commands`` is listed by ``--help``, defaults to Limits(), and refuses 0."""
    from twisted.python.usage import UsageError

    from blackjack.server.hosting.tap import Options

    assert "--telnet-commands=" in str(Options())
    options = Options()
    options.parseOptions([])
    assert options["limits"].telnet_commands == Limits().telnet_commands == 1000
    options = Options()
    options.parseOptions(["--telnet-commands", "50"])
    assert options["limits"].telnet_commands == 50
    with pytest.raises(UsageError):
        Options().parseOptions(["--telnet-commands", "0"])
    with pytest.raises(ValueError, match="telnet_commands"):
        Limits(telnet_commands=0)
