"""`python -m loaders PATH…`: the same command as `eventmart load PATH…`."""

from __future__ import annotations

import sys


def main() -> None:
    # The command is defined once, in the CLI layer; imported here, at run time only, so
    # that importing `loaders` never pulls in `api`.
    from api.cli import cli

    cli(["load", *sys.argv[1:]], prog_name="python -m loaders")


if __name__ == "__main__":
    main()
