"""`python -m cli …`: the same command as `eventmart …`."""

from cli.main import main

if __name__ == "__main__":
    main()
