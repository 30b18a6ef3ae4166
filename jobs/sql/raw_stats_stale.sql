-- Are raw.events' planner statistics missing, or older than a tenth of its rows (autovacuum's
-- default analyze threshold)? A refresh plans its new-row reads on them.
select
    coalesce(s.last_analyze, s.last_autoanalyze) is null
    or s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) as stale
from pg_stat_user_tables as s
inner join pg_class as c on s.relid = c.oid
where s.relid = 'raw.events'::regclass
