"""The HTTP API (ingest, stats, operations) and the `eventmart` command line."""
