"""The log's catalogue: every structured event the server logs, and its fields.

A log line is for people (its text) and for programs (its fields): with
``--log-format json`` each is one JSON object carrying the fields below and
``event``, the kind's name, so an operator can filter (``jq 'select(.event ==
"limit_tripped")'``) instead of parsing sentences.  An event is logged by
calling its kind with a :class:`~twisted.logger.Logger` and every field,
no other (``LOGIN(log, name="ann", account_id=3, peer="10.0.0.7", how="password")``),
as :class:`~blackjack.server.core.events.Kind` does for the wire.

Secrets never reach the log: a kind may not have a field named like one
(:data:`SECRET_FIELDS`: a password, a seed, a token, a hole card), and the
JSON observer drops such a key from any event
(:mod:`blackjack.server.hosting.jsonlog`).  A failed login logs the name tried
only if it is an account's: a password typed into the name's place is no name.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger, LogLevel

__all__ = ["LogEvent", "LOG_EVENTS", "SECRET_FIELDS", "LOGIN", "LOGIN_FAILED", "LOGOUT",
           "REGISTERED", "DISCONNECT", "ROUND_SETTLED", "LIMIT_TRIPPED", "ADMIN_ACT",
           "ADMIN_REFUSED"]

SECRET_FIELDS = frozenset({"password", "passwd", "seed", "server_seed", "client_seed",
                           "token", "secret", "hole", "hole_card", "shoe", "cards"})
"""Names no logged field may have: what they would hold must never be written down."""


class LogEvent:
    """One kind of log event: its level, its text for people and its fields."""

    def __init__(self, name: str, level: LogLevel, text: str, *fields: str,
                 doc: str) -> None:
        secret = SECRET_FIELDS.intersection(fields)
        if secret or "event" in fields:
            raise ValueError(f"log event {name}: field {sorted(secret or {'event'})} "
                             "may not be logged")
        self.name = name
        self.level = level
        self.text = text
        self.fields = frozenset(fields)
        self.doc = doc

    def __call__(self, log: Logger, **values: Any) -> None:
        """Log it: every field given, no other (a TypeError otherwise)."""
        if values.keys() != self.fields:
            raise TypeError(f"log event {self.name}: missing "
                            f"{sorted(self.fields - values.keys())}, unknown "
                            f"{sorted(values.keys() - self.fields)}")
        # Rendered here by str.format (a kind's text has plain fields only):
        # Twisted's own formatting of the fields, in Python, cost half of a
        # settled round's log line.  The fields still go with the event.
        text = self.text.format(**values).replace("{", "{{").replace("}", "}}")
        log.emit(self.level, text, event=self.name, **values)

    def __repr__(self) -> str:
        return f"<LogEvent {self.name}>"


LOG_EVENTS: dict[str, LogEvent] = {}
"""Every kind, by name."""


def _kind(name: str, level: LogLevel, text: str, *fields: str, doc: str) -> LogEvent:
    made = LOG_EVENTS[name] = LogEvent(name, level, text, *fields, doc=doc)
    return made


_info, _warn = LogLevel.info, LogLevel.warn

LOGIN = _kind("login", _info, "{name} logged in from {peer} ({how})",
              "name", "account_id", "peer", "how",
              doc="a player logged in; `how`: password, register or token")
REGISTERED = _kind("registered", _info, "new account {name} ({account_id}) from {peer}",
                   "name", "account_id", "peer", doc="an account was made")
LOGIN_FAILED = _kind("login_failed", _info, "a login from {peer} failed: {reason}",
                     "peer", "name", "reason",
                     doc="a login was refused; `reason`: password, throttled, banned or "
                         "token; `name` only if an account has it (else empty)")
LOGOUT = _kind("logout", _info, "{name} logged out from {peer}: {why}",
               "name", "account_id", "peer", "why",
               doc="a logged-in connection ended; `why` as for disconnect")
DISCONNECT = _kind("disconnect", _info, "{frontend} connection from {peer} closed: {why}",
                   "peer", "frontend", "name", "why",
                   doc="a connection ended; `name` is its player's, or empty; `why`: "
                       "quit, client (the client closed it), a limit's name, kicked, "
                       "banned, taken over, shutdown")
ROUND_SETTLED = _kind("round_settled", _info,
                      "round {round_id} at {table} settled: {hands} hands, {staked} "
                      "staked, {paid} paid", "table", "round_id", "hands", "players",
                      "staked", "paid",
                      doc="a round was paid (never its cards: the hand history has them)")
LIMIT_TRIPPED = _kind("limit_tripped", _warn, "{peer} went over the {limit} limit: {action}",
                      "peer", "limit", "action", "name",
                      doc="a limit acted on a connection; `action`: dropped (a line or "
                          "command), closed (the connection) or refused (a new connection)")
ADMIN_ACT = _kind("admin_act", _warn, "admin {admin}: {act} {target} {reason}",
                  "admin", "admin_id", "act", "target", "reason", "detail",
                  doc="an admin acted (the same act is in the database's audit trail)")
ADMIN_REFUSED = _kind("admin_refused", _warn,
                      "{name} ({peer}) is not an admin: {command} refused",
                      "name", "account_id", "peer", "command",
                      doc="a player who is not an admin sent an admin command")
