"""The Twisted server, in layers that its folders show.

* :mod:`.core`: the game: tables, the lobby, players, accounts, events.
  Imports no wire, no rendering and no SQL.
* :mod:`.frontends`: bytes to commands and events to bytes (telnet).
* :mod:`.storage`: the narrow :class:`~blackjack.server.storage.IStorage`
  interface and its backends (SQLite), with the books audit.
* :mod:`.hosting`: the service that ties them together, and ``twistd blackjack``.

Errors every layer may raise are in :mod:`.errors`; the rules for text one
player shows others (chat, names and their look-alikes) in :mod:`.text`.
"""
