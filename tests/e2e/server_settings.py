"""The production settings, with static files collected into a directory of the test run's own.

Used only by the server process the browser tests start; everything else comes from the environment exactly
as in production.
"""

import os
from pathlib import Path

from helpdesk.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["HELPDESK_E2E_STATIC_ROOT"])
