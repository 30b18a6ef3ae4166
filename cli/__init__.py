"""The `eventmart` command line. Nothing imports this package: it sits on top of the others."""
