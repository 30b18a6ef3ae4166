"""`python -m loaders PATH…`: the same command as `eventmart load PATH…`.

The command is defined once, in the `cli` package, which sits above `loaders`; this alias
hands over to it as a new program (exec), so `loaders` never imports `cli`.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.execv(sys.executable, [sys.executable, "-m", "cli", "load", *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    main()
