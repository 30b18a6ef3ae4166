-- Is there anything for dbt to do? How many of the incremental models have a watermark, and
-- whether any raw row was loaded at or after the earliest watermark (minus the lookback).
with marks as (
    select
        count(safe_from) as models,
        min(safe_from) - %(lookback)s::interval as threshold
    from marts.refresh_watermarks
    where model_name = any(%(models)s)
)

select
    marks.models,
    exists(
        select 1
        from raw.events as e
        where e.loaded_at >= marks.threshold
    ) as new_rows
from marks
