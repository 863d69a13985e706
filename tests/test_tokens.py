"""Resume tokens: single use, alive while their connection is, then for a lifetime; bounded."""

from __future__ import annotations

from twisted.internet.task import Clock

from blackjack.server.core.tokens import ResumeTokens


def test_a_token_logs_its_account_in_once() -> None:
    """Redeeming gives the account; the same token a second time gives nothing."""
    tokens = ResumeTokens(Clock().seconds)
    token = tokens.issue(7)
    assert len(token) >= 43 and token.isascii()
    assert tokens.redeem(token) == 7
    assert tokens.redeem(token) is None
    assert tokens.redeem("not-a-token") is None and len(tokens) == 0


def test_a_token_lives_while_its_connection_does_then_for_its_lifetime() -> None:
    """No expiry while held; once released it works until ``lifetime`` seconds pass."""
    clock = Clock()
    tokens = ResumeTokens(clock.seconds, lifetime=60)
    held, released = tokens.issue(1), tokens.issue(1)
    clock.advance(10_000)
    tokens.release(released)
    clock.advance(59)
    assert tokens.redeem(released) == 1
    late = tokens.issue(2)
    tokens.release(late)
    clock.advance(60)
    assert tokens.redeem(late) is None
    assert tokens.redeem(held) == 1


def test_only_the_newest_tokens_of_an_account_are_kept() -> None:
    """Past ``per_account`` live tokens the oldest stop working; other accounts keep theirs."""
    tokens = ResumeTokens(Clock().seconds, per_account=3)
    other = tokens.issue(2)
    mine = [tokens.issue(1) for _ in range(5)]
    assert [tokens.redeem(t) for t in mine] == [None, None, 1, 1, 1]
    assert tokens.redeem(other) == 2


def test_expired_tokens_are_swept_away() -> None:
    """Released tokens nobody redeems do not pile up: issuing sweeps the expired ones."""
    clock = Clock()
    tokens = ResumeTokens(clock.seconds, lifetime=10)
    for account in range(100):
        tokens.release(tokens.issue(account))
    clock.advance(11)
    tokens.issue(1000)
    assert len(tokens) == 1


def test_revoked_tokens_and_predictable_bits() -> None:
    """A revoked token fails; the bits come from the source given (the OS by default)."""
    tokens = ResumeTokens(Clock().seconds, random_bytes=lambda n: b"\x00" * n)
    token = tokens.issue(3)
    assert token == "A" * 43
    tokens.revoke(token)
    assert tokens.redeem(token) is None
