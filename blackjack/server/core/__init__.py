"""The game core: tables, the lobby, players, accounts and the events they send.

Nothing here knows how a client is connected or how an event becomes bytes:
it imports no wire (``twisted.conch``, ``twisted.web``), no rendering and no
database driver; it speaks to clients through
:class:`~blackjack.server.core.player.ISeatClient` and to the database
through :class:`~blackjack.server.storage.IStorage`.  ``tests/test_layers.py``
keeps it so.
"""
