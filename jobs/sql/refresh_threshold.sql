-- How many of the incremental models have a watermark, and the earliest raw loaded_at any of
-- them still has to read.
select
    count(safe_from) as models,
    min(safe_from) as threshold
from marts.refresh_watermarks
where model_name = any(%(models)s)
