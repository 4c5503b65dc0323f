"""Golden trees are expected output, not tests: pytest must not collect or import anything below here."""

# A golden backend holds its own tests/ and conftest.py; collecting them would run the generated
# suite against whatever ``app`` package is importable, and clash with this project's conftest.
# (tests/golden/__init__.py makes this module ``golden.conftest``, so it never shadows tests/conftest.py.)
collect_ignore_glob = ["*"]
