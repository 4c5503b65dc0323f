"""Expected renders, compared by tests/test_render.py; a package only so its conftest gets its own name."""
