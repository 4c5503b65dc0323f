"""``python -m skillrunner``: the same as the ``skillrunner`` command."""

from skillrunner.cli import main

main(prog_name="skillrunner")
