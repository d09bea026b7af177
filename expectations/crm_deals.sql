-- Deals of the rows in scope, as loaded (text), with the parsed values the suite checks.
select
    r.id as deal_id,
    r.amount as amount_text,
    try_cast(nullif(trim(r.amount), '') as double) as amount,
    upper(trim(r.deal_currency_code)) as currency_code,
    r.dealstage as deal_stage_id,
    nullif(trim(r.hubspot_owner_id), '') as owner_id,
    coalesce(lower(s.is_closed) = 'true' and try_cast(s.probability as double) = 1, false) as is_won,
    cast(spm_utc(r.closedate) as date) as close_date,
    cast(spm_utc(r.createdate) as date) as create_date,
    -- days the close date lies beyond a year after the data's as-of (the newest updatedAt of any
    -- deal, as fct_pipeline_snapshots takes it): a close in 9999 is booked in 9999-12 otherwise
    date_diff('day', cast(a.as_of + interval 1 year as date), cast(spm_utc(r.closedate) as date))
        as close_days_beyond_a_year_after_as_of,
    r._source_file,
    r._source_line
from raw_crm.deals as r
left join (select distinct on (id) id, is_closed, probability from raw_crm.pipeline_stages) as s on s.id = r.dealstage
cross join (select cast(max(spm_utc(updated_at)) as date) as as_of from raw_crm.deals) as a
where {scope}
