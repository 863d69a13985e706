"""Storage: where chips, accounts and hand history are kept, behind one narrow interface.

The game core speaks only to :class:`IStorage` and the values and errors it
names, all re-exported here from :mod:`.interface`.  The backends live beside
it: :mod:`.sqlite` (embedded, the default) and :mod:`.memory` (for tests and
embedding), with :mod:`.audit`, the books check, shared by all of them.
"""

from blackjack.server.storage.interface import *  # noqa: F401,F403
from blackjack.server.storage.interface import __all__  # noqa: F401
