-- Fresh planner statistics for raw.events (a few seconds at 10M rows; only after bulk loads).
analyze raw.events
