"""``python -m densumap``: the ``densumap`` command line (see :mod:`densumap.cli`)."""
import sys

from .cli import main

sys.exit(main())
