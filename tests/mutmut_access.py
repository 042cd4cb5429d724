"""Run mutmut over portal/access.py alone, with the fast access tests (`make mutate-access`).

mutmut reads one configuration, [tool.mutmut] in pyproject.toml. This wrapper lays the table
[tool.mutmut.access] over it (only_mutate and the test selection), then hands over to mutmut's
own command line: `python tests/mutmut_access.py run --max-children 1`, `... results`,
`... show NAME`. The mutants/ folder is mutmut's usual one; mutmut re-runs cached verdicts when
the test selection differs from the run that produced them, so `make mutate` and this target
can follow each other (delete mutants/ for a clean start).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import mutmut.configuration as configuration

_read = configuration._config_reader


def _reader() -> Callable[[str, Any], Any]:
    base = _read()
    overrides: dict[str, Any] = base("access", {})

    def setting(key: str, default: Any) -> Any:
        return overrides[key] if key in overrides else base(key, default)

    return setting


configuration._config_reader = _reader
configuration.reset_config()

from mutmut.__main__ import cli  # noqa: E402  (after the configuration is in place)

if __name__ == "__main__":
    sys.exit(cli())
