-- Emails of the rows in scope: when they happened relative to the load, duration, type.
select
    r.id as activity_id,
    spm_utc(r.hs_timestamp) as occurred_at,
    date_diff('hour', spm_load_time(r._dlt_load_id), spm_utc(r.hs_timestamp)) as hours_after_load,
    cast(null as varchar) as duration_ms_text,
    try_cast(cast(null as varchar) as bigint) as duration_ms,
    upper(r.hs_email_direction) as activity_type,
    nullif(trim(r.hubspot_owner_id), '') as owner_id,
    r._source_file,
    r._source_line
from raw_crm.emails as r
where {scope}
