"""``python -m jitr_iot``: the ``jitr`` command (see :mod:`jitr_iot.cli`)."""

import sys

from jitr_iot.cli import main

if __name__ == "__main__":
    sys.exit(main())
