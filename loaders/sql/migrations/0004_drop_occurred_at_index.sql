-- No query reads raw.events by occurred_at any more (the marts find rows by loaded_at and
-- every read is served from the marts); the index only slowed every write (benchmark.py:
-- the raw writer lands 25-50 % more rows/s without it). See docs/performance.md.
drop index if exists raw.events_occurred_at_idx;
