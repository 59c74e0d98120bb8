"""What the fork server imports once before it forks the API's workers (see `cli.py`).

Importing this module imports the app and every estimator's module, then freezes the
collector's view of those objects: a worker's garbage collections would otherwise write to
each object's header and so copy every page it shares with its siblings.
"""

import gc

from movie_r.recommenders import collaborative, kinds, popularity, rp3beta, session  # noqa: F401
from movie_r_api import app  # noqa: F401

gc.freeze()
