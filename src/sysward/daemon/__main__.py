"""`python -m sysward.daemon`: the same as `syswardd`."""

import sys

from sysward.daemon.main import main

sys.exit(main())
