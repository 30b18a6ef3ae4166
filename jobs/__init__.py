"""Background work: the RQ ingest job, its queue, and the mart refresh scheduler."""
