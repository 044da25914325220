from __future__ import annotations

import sys

from apigate.cli import main

sys.exit(main())
