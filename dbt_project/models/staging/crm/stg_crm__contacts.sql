{#- Records that passed every check of base_crm__contacts; the others are in rejects_crm__contacts. -#}
select
    contact_id, contact_email, first_name, last_name, job_title, lifecycle_stage, lead_status, owner_id,
    company_id, created_at, became_lead_at, became_mql_at, became_sql_at, became_opportunity_at,
    became_customer_at, updated_at, is_archived, archived_at, _source_file, _source_line, _dlt_load_id
from {{ ref('base_crm__contacts') }}
where _reject_reason is null
