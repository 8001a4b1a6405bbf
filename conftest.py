"""Repository-root conftest: its only job is to put the repository root on `sys.path`.

Why: pytest's default "prepend" import mode puts `tests/` first on `sys.path`, so the folder
`tests/core/` would be found as a namespace package `core`, and `core` is only importable through
the editable install's finder, which comes after the path finder. With the repository root on
`sys.path` too, the real `core/` (a regular package) wins over the namespace portion.
"""

# Fixtures shared by tests in several folders (distribution: a fake LinkedIn, a creator with a draft).
pytest_plugins = ("tests.distribution_fixtures",)
