"""``python -m gmm_studio``: the same as the ``gmm-studio`` command."""

import sys

from gmm_studio.app import main

if __name__ == "__main__":
    sys.exit(main())
