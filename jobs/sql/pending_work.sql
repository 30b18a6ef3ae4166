-- Is any raw row loaded at or after the threshold? max() reads one entry at the end of the
-- loaded_at index whatever the planner statistics say (an exists() over a range is planned as
-- a sequential scan of raw.events while its statistics are missing, e.g. after a bulk load).
select coalesce(max(e.loaded_at) >= %(threshold)s::timestamptz, false) as new_rows
from raw.events as e
