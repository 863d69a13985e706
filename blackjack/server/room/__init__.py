"""A card room run by several server processes ("nodes") on one PostgreSQL ledger.

Each table is run by one node at a time under a lease in the database,
fenced so that a node which lost its lease can never stake or pay
(:mod:`blackjack.server.storage.room`).  Any node takes any player: a player
at a table another node runs has their commands forwarded there and the
table's events sent back over a node link (:mod:`.link`, AMP).

* :mod:`.node` -- one node: the heartbeat, taking, losing and handing over
  tables, and both ends of forwarding.
* :mod:`.lobby` -- the node's lobby: every table of the room; logins that
  find a seat anywhere in the room and close the account's other login.
* :mod:`.remote` -- a table another node runs, as sessions here see it.
* :mod:`.guests` -- a player of another node, as a table here sees them.
* :mod:`.verbs` -- a forwarded command, run at the table.
* :mod:`.link`, :mod:`.wire` -- the node link and its AMP commands.

``docs/room.md`` is the operator's page.
"""
