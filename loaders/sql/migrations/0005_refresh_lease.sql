-- The refresh lease: at most one mart build at a time, whoever starts it (`eventmart refresh`,
-- the scheduler, or the plain dbt CLI from the repo root). A session advisory lock cannot do
-- this for the dbt CLI: dbt closes its connection after every model, hook and test, so no
-- session lives as long as a run. The lease is a row naming its holder by the
-- application_name its connections carry; a holder with no connection for longer than its
-- `grace` is dead (killed), and the next claim takes over. See docs/operations.md.
create table if not exists raw.refresh_lease (
    id integer primary key default 1 check (id = 1),
    holder text,
    grace interval not null default interval '0 seconds',
    claimed_at timestamptz
);

insert into raw.refresh_lease (id) values (1) on conflict (id) do nothing;

-- Wait until the lease is free, held by `claimant` already, or held by a dead holder; then
-- hold it (the caller commits). Waits without holding a row lock, so the holder can always
-- give the lease back; concurrent claimants settle on the row with compare-and-set.
create or replace function raw.claim_refresh_lease(
    claimant text, claimant_grace interval default interval '0 seconds'
) returns void
language plpgsql
as $$
declare
    current_holder text;
    current_grace interval;
    watched text;
    last_seen timestamptz;
    alive boolean;
begin
    loop
        select l.holder, l.grace into current_holder, current_grace
        from raw.refresh_lease as l
        where l.id = 1;
        if current_holder is distinct from watched then
            watched := current_holder;  -- a new holder: its grace starts now
            last_seen := clock_timestamp();
        end if;
        perform pg_stat_clear_snapshot();  -- pg_stat_activity is cached per transaction
        alive := exists (
            select 1 from pg_stat_activity as a where a.application_name = current_holder
        );
        if alive then
            last_seen := clock_timestamp();
        end if;
        if current_holder is null
            or current_holder = claimant
            or (not alive and clock_timestamp() - last_seen > current_grace) then
            begin
                update raw.refresh_lease as l
                set
                    holder = claimant,
                    grace = case
                        when current_holder = claimant then l.grace else claimant_grace
                    end,
                    claimed_at = clock_timestamp()
                where l.id = 1 and l.holder is not distinct from current_holder;
                if found then
                    return;
                end if;
                -- Another claimant was first. The update still locked the row while it
                -- re-checked it; undo this attempt so the new holder can give the lease back.
                raise sqlstate 'EMLSE';
            exception
                when sqlstate 'EMLSE' then
                    null;
            end;
        else
            perform pg_sleep(0.1);
        end if;
    end loop;
end;
$$;

-- Give the lease back (a no-op when `claimant` does not hold it).
create or replace function raw.release_refresh_lease(claimant text) returns void
language sql
as $$
    update raw.refresh_lease set holder = null, claimed_at = null where holder = claimant;
$$;

-- Fail unless `claimant` holds the lease: a build that lost it (declared dead while it was
-- only suspended) stops instead of racing the holder that took over.
create or replace function raw.assert_refresh_lease(claimant text) returns void
language plpgsql
as $$
begin
    if not exists (select 1 from raw.refresh_lease as l where l.holder = claimant) then
        raise exception 'refresh lease not held by % (another build took it over)', claimant;
    end if;
end;
$$;
