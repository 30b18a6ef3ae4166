"""Reference designs that benchmark.py measures beside ours, on the same data and machine.

- `seed_design`: the seed's design, the same /stats answers aggregated from raw.events on
  every request, served through the same app (`/seed/stats/*`).
- `matviews`: PostgreSQL's own materialized views of the same aggregates, rebuilt whole by
  REFRESH MATERIALIZED VIEW.
- `ceiling`: a minimal FastAPI app returning fixed bytes: what the framework can serve.

tests/integration/test_peers.py checks that the seed design answers what the marts answer.
"""
