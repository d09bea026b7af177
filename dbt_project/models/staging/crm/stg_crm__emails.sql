{#- Records that passed every check of base_crm__emails; the others are in rejects_crm__emails. -#}
select
    email_id, occurred_at, email_direction, direction, email_status, email_subject, owner_id, contact_id, company_id,
    deal_id, created_at, updated_at, is_archived, _source_file, _source_line, _dlt_load_id, _staged_at
from {{ ref('base_crm__emails') }}
where _reject_reason is null
