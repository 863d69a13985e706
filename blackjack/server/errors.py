"""Every error the server raises, in one place, each with a stable code.

A client sees an error as one line for people (the message) and, in protocol
v1, a ``code`` that programs can rely on: codes never change meaning, messages
may be reworded.  :data:`CODES` is the catalogue of codes (the schema and
``docs/protocol.md`` are checked against it); :func:`code_of` gives the code of
any exception, the engine's included.

Each class subclasses :class:`~blackjack.errors.BlackjackError` and the
builtin that fits.  A class has a default code; where one class covers
several refusals (a table says no for many reasons) the raise site names the
code: ``TableError("seat 3 is taken", code="seat_taken")``.
"""

from __future__ import annotations

from typing import ClassVar

from blackjack.errors import BlackjackError, IllegalActionError, InvalidBetError, NotYourTurnError

__all__ = [
    "CODES", "code_of",
    "ServerError", "CommandError", "TableError", "LobbyError", "ServerBusyError",
    "AccountError", "InvalidNameError", "InvalidPasswordError", "LoginFailedError",
    "RegistrationThrottledError", "BannedError", "AdminOnlyError",
    "StorageError", "DatabaseError", "NameTakenError", "LookAlikeNameError", "UnknownAccountError",
    "InsufficientFundsError", "InvalidAmountError", "DuplicateStakeError",
    "RoundClosedError", "SettlementError", "DatabaseUnavailableError", "MigrationError",
    "FencedError", "RebuyRefusedError",
]

CODES: dict[str, str] = {
    # The request itself.
    "bad_request": "the request is malformed: not JSON, no such command, or a parameter "
                   "missing, unknown or of the wrong type (the message names it)",
    "hello_required": "a protocol v1 request came before the hello",
    "unsupported_protocol": "the hello asked for a protocol version the server does not speak",
    "rate_limited": "over the connection's command rate; the request was not run",
    "busy": "too many requests are waiting on this connection; the request was not run",
    # Logging in.
    "login_required": "the command needs you logged in",
    "already_logged_in": "this connection is already logged in",
    "login_pending": "a login on this connection is still being checked",
    "login_failed": "wrong name or password, or too many attempts (never says which)",
    "invalid_name": "the name breaks the name rules, or is reserved",
    "invalid_password": "the new password breaks the password rules",
    "name_taken": "an account with that name (or one that looks like it) exists",
    "registration_throttled": "too many new accounts from this address lately",
    "banned": "an admin has banned the account (the message says until when)",
    # The lobby and seats.
    "no_such_table": "there is no table of that name",
    "table_closed": "the table is closed",
    "table_full": "every seat at the table is taken",
    "seat_taken": "that seat is taken",
    "no_such_seat": "seats are 1 to 7",
    "already_seated": "you already sit at this table",
    "at_another_table": "you sit at or watch another table; leave it first",
    "not_at_table": "the command needs you at (or watching) a table",
    "not_seated": "the command needs you seated at the table",
    # Betting and playing.
    "betting_closed": "no betting window is open: a round is in play",
    "already_bet": "you have bet this round already",
    "bet_pending": "your last bet on this seat is still being placed",
    "bet_out_of_range": "the bet is outside the table's minimum and maximum",
    "insufficient_funds": "not enough chips; nothing was taken",
    "no_round": "no cards are dealt",
    "no_hand": "you have no hand this round",
    "not_your_turn": "another seat (or nobody) has the turn",
    "illegal_action": "the rules do not allow that action now (the message says why)",
    "no_hint": "a hint needs your turn",
    "room_tables": "in a room of several servers the tables are set by every server's "
                   "options: admins cannot add or close them in the game",
    "table_moving": "the table is moving to another server of the room (its server left "
                    "or hands it over); nothing was staked or paid, try again in a moment",
    "muted": "an admin has muted you: chat is refused until the mute ends",
    # Admin commands.
    "admin_only": "the command is for the card room's admins",
    "no_such_player": "no account of that name, or (kick) nobody of that name is here",
    "table_exists": "a table of that name is open already",
    "no_such_hand": "you have no hand with that number",
    "no_such_shoe": "there is no shoe with that id",
    "rebuy_refused": "no rebuy now: you still have chips, or your last rebuy was too recent",
    # The server.
    "unavailable": "the database is out of reach for a moment; nothing was changed",
    "server_error": "something went wrong on the server; nothing was changed",
}
"""Every error code a client may see, with what it means."""


class ServerError(BlackjackError):
    """Base class of the server's own errors: a message for people and a code for programs."""

    code: ClassVar[str] = "server_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            if code not in CODES:
                raise ValueError(f"unknown error code {code!r}")
            # An instance attribute over the class default.
            self.code = code  # type: ignore[misc]


class CommandError(ServerError, ValueError):
    """A command was mistyped; the message says what to type instead."""

    code = "bad_request"


class TableError(ServerError, ValueError):
    """A table command that cannot be done now; the message says why, ``code`` what."""

    code = "illegal_action"


class LobbyError(ServerError, LookupError):
    """No such table (or a similar lobby-level refusal)."""

    code = "no_such_table"


class ServerBusyError(ServerError, RuntimeError):
    """The server cannot take the request now (too many waiting, the database away)."""

    code = "busy"


# --- accounts -------------------------------------------------------------------


class AccountError(ServerError):
    """Base class of registration and login errors."""


class InvalidNameError(AccountError, ValueError):
    """A name breaks the name rules (see :mod:`blackjack.server.core.accounts`)."""

    code = "invalid_name"


class InvalidPasswordError(AccountError, ValueError):
    """A new password breaks the password rules."""

    code = "invalid_password"


class LoginFailedError(AccountError, ValueError):
    """Any failed login, for whatever reason; the message never says which."""

    code = "login_failed"
    MESSAGE = "login failed: wrong name or password, or too many attempts; wait and try again"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class RegistrationThrottledError(AccountError, ValueError):
    """Too many accounts were created from one address lately."""

    code = "registration_throttled"

    def __init__(self) -> None:
        super().__init__("too many new accounts from your address; try again later")


class BannedError(AccountError, PermissionError):
    """The password was right, but an admin has banned the account."""

    code = "banned"

    def __init__(self, until: str) -> None:
        super().__init__(f"this account is banned {until}")


class AdminOnlyError(ServerError, PermissionError):
    """A player who is not an admin sent an admin command."""

    code = "admin_only"

    def __init__(self, command: str) -> None:
        super().__init__(f"'{command}' is for the card room's admins; "
                         "type 'help' for the commands you can use")


# --- storage --------------------------------------------------------------------


class StorageError(ServerError):
    """Base class of every error the storage layer raises."""


class DatabaseError(StorageError, RuntimeError):
    """The database itself failed (locked too long, disk full, corrupt, ...)."""

    code = "server_error"


class NameTakenError(StorageError, ValueError):
    """An account with this name (compared case-insensitively) already exists."""

    code = "name_taken"

    def __init__(self, name: str, why: str = "is taken") -> None:
        super().__init__(f"the name {name!r} {why}; choose another")
        self.name = name


class LookAlikeNameError(NameTakenError):
    """A name looks like an existing account's (the same look-alike key) on screen."""

    def __init__(self, name: str, taken: str) -> None:
        super().__init__(name, f"looks too much like {taken!r}, which is taken")
        self.taken = taken


class UnknownAccountError(StorageError, LookupError):
    """No account has this id or name."""

    def __init__(self, account: int | str) -> None:
        super().__init__(f"no such account: {account!r}")
        self.account = account


class InsufficientFundsError(StorageError, ValueError):
    """A stake is larger than the balance; nothing was debited."""

    code = "insufficient_funds"

    def __init__(self, balance: int, need: int) -> None:
        super().__init__(f"not enough chips: balance {balance}, need {need}")
        self.balance = balance
        self.need = need


class InvalidAmountError(StorageError, ValueError):
    """An amount of chips is not a whole number in range."""


class DuplicateStakeError(StorageError, ValueError):
    """This (round, account, key) already has a stake; nothing was debited twice."""

    def __init__(self, round_id: str, account_id: int, key: str) -> None:
        super().__init__(
            f"already staked {key!r} in round {round_id!r} for account {account_id}")


class RoundClosedError(StorageError, ValueError):
    """The round was already settled or refunded, so it takes no new stakes."""

    def __init__(self, round_id: str, state: str) -> None:
        super().__init__(f"round {round_id!r} is already {state}; no more bets")
        self.round_id = round_id
        self.state = state


class RebuyRefusedError(StorageError, ValueError):
    """A rebuy was refused: the player is not broke, or rebought too recently.

    ``chips`` is the player's balance with their chips in escrow; ``last``
    when their last rebuy was (``None`` if never).
    """

    code = "rebuy_refused"

    def __init__(self, chips: int, last: float | None, message: str | None = None) -> None:
        super().__init__(message or f"no rebuy: {chips} chips, last rebuy at {last}")
        self.chips = chips
        self.last = last


class SettlementError(StorageError, ValueError):
    """Payouts do not match the round's stakes; nothing was paid."""


class DatabaseUnavailableError(DatabaseError):
    """The database server cannot be reached just now; the storage keeps trying.

    ``committing``: the connection was lost during COMMIT itself, so the
    change may or may not have been kept (nothing is lost either way).
    """

    code = "unavailable"

    def __init__(self, committing: bool = False) -> None:
        if committing:
            message = ("the database went away while saving; check your balance "
                       "in a moment, nothing is lost")
        else:
            message = "the database is unavailable; no chips moved, try again in a moment"
        super().__init__(message)
        self.committing = committing


class FencedError(StorageError, RuntimeError):
    """A node's lease on a table has moved on: it may no longer stake or pay there.

    Raised by a stake or settlement that names an epoch the table's lease no
    longer has; the check is made in the transaction that would have moved
    the chips, so nothing moved.
    """

    code = "table_moving"

    def __init__(self, table: str, node: str, epoch: int) -> None:
        super().__init__(f"table {table} is no longer run by node {node!r} under lease "
                         f"epoch {epoch}: it moved to another node, and nothing was "
                         "staked or paid here")
        self.table = table
        self.node = node
        self.epoch = epoch


class MigrationError(StorageError, ValueError):
    """A room cannot be copied between databases as asked; nothing was copied."""


# --- codes of any error ------------------------------------------------------------

_ENGINE_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (NotYourTurnError, "not_your_turn"),
    (IllegalActionError, "illegal_action"),
    (InvalidBetError, "bet_out_of_range"),
)


def code_of(error: BaseException) -> str:
    """The code a client is told for ``error`` (``server_error`` for anything unexpected)."""
    if isinstance(error, ServerError):
        return error.code
    for kind, code in _ENGINE_CODES:
        if isinstance(error, kind):
            return code
    return "server_error"
