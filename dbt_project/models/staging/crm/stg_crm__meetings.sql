{#- Records that passed every check of base_crm__meetings; the others are in rejects_crm__meetings. -#}
select
    meeting_id, occurred_at, meeting_title, starts_at, ends_at,
    {{ dbt.datediff('starts_at', 'ends_at', 'minute') }} as duration_minutes,
    meeting_outcome, owner_id, contact_id, company_id, deal_id, created_at, updated_at, is_archived,
    _source_file, _source_line, _dlt_load_id, _staged_at
from {{ ref('base_crm__meetings') }}
where _reject_reason is null
