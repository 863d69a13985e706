"""Storage: where chips, accounts and hand history are kept, behind one narrow interface.

The game core speaks only to :class:`IStorage` and the values and errors it
names, all re-exported here from :mod:`.interface`.  The backends live beside
it: :mod:`.sqlite` (embedded, the default) and :mod:`.postgresql` (a server
database), both built on :mod:`.sql` (the queries and group commit), and
:mod:`.memory` (for tests and embedding); :mod:`.backends` opens the one a
``--db`` names.  Shared by all: :mod:`.schema` (versions and upgrades),
:mod:`.audit` (the books check), :mod:`.migrate` (SQLite into PostgreSQL),
:mod:`.admin` (the SQL of the host's powers: roles, sanctions, grants, the
audit trail) and :mod:`.roles` (the host's command line for the admin role).
Importing this package loads no database driver.
"""

from blackjack.server.storage.interface import *  # noqa: F401,F403
from blackjack.server.storage.interface import __all__  # noqa: F401
