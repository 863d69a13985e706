"""Front ends: bytes from clients in, commands to the core; events out, as bytes.

Each front end (telnet today) frames input, enforces the per-connection
limits (:mod:`.limits`) before anything reaches the game, and turns events
into what its clients read: text for people (:mod:`.render`) or JSON lines.
"""
