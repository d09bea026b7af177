{#- Records that passed every check of base_crm__calls; the others are in rejects_crm__calls. -#}
select
    call_id, occurred_at, call_title, direction, duration_ms, disposition_id, disposition, call_status, owner_id,
    contact_id, company_id, deal_id, created_at, updated_at, is_archived, _source_file, _source_line, _dlt_load_id, _staged_at
from {{ ref('base_crm__calls') }}
where _reject_reason is null
