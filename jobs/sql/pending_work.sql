-- Is any raw row loaded at or after the threshold? A bound value (not a subquery), so the
-- planner probes the loaded_at index instead of scanning raw.events when nothing is new.
select exists(
    select 1
    from raw.events as e
    where e.loaded_at >= %(threshold)s::timestamptz
) as new_rows
