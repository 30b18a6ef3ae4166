"""PostgreSQL advisory-lock ids: one place, so no two roles pick the same number.

Advisory locks are per database. `raw_write_lock_id` in dbt_project.yml mirrors
RAW_WRITE_LOCK_ID for the dbt macros (a unit test keeps the two equal).
"""

from __future__ import annotations

# Held (exclusive) for the whole of a mart build by `eventmart refresh` and the scheduler,
# which then also claim the refresh lease that the plain dbt CLI claims (raw.refresh_lease).
REFRESH_LOCK_ID = 0x6D617274  # "mart"
# Held (shared) by the raw writer from before it stamps loaded_at until it commits.
RAW_WRITE_LOCK_ID = 0x72617720  # "raw "
# Held (exclusive, per transaction) while migrations run.
MIGRATION_LOCK_ID = 0x6576656E  # "even"
