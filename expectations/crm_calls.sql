-- Calls of the rows in scope: when they happened relative to the load, duration, type.
select
    r.id as activity_id,
    spm_utc(r.hs_timestamp) as occurred_at,
    date_diff('hour', spm_load_time(r._dlt_load_id), spm_utc(r.hs_timestamp)) as hours_after_load,
    r.hs_call_duration as duration_ms_text,
    try_cast(r.hs_call_duration as bigint) as duration_ms,
    upper(r.hs_call_direction) as activity_type,
    nullif(trim(r.hubspot_owner_id), '') as owner_id,
    r._source_file,
    r._source_line
from raw_crm.calls as r
where {scope}
