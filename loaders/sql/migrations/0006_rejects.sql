-- Messages the capture routes (Segment/RudderStack, PostHog) could not store: the SDKs answer
-- 200 to the whole batch, so each invalid message is kept here for an operator to look at.
-- Written only by loaders.rejects.write_rejects; listed by `eventmart rejects`. source is the
-- protocol family: segment (Segment and RudderStack) or posthog.
create table if not exists raw.rejects (
    reject_id text primary key,
    source text not null,  -- noqa: RF04
    message_id text,
    reason text not null,
    payload text not null,
    payload_bytes integer not null,
    received_at timestamptz not null,
    recorded_at timestamptz not null default clock_timestamp()
);

create index if not exists rejects_received_at_idx on raw.rejects (received_at);
