"""``python -m densumap``: the ``densumap`` command line (see :mod:`densumap.cli`)."""
from .cli import run

run()
