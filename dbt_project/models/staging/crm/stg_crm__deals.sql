{#- Records that passed every check of base_crm__deals; the others are in rejects_crm__deals. -#}
select
    deal_id, deal_name, pipeline_id, deal_stage_id, amount, currency_code, deal_type, closed_lost_reason,
    contract_term_months, owner_id, company_id, primary_contact_id, contact_count, created_at, closed_at,
    close_date, updated_at, is_archived, archived_at, amount_raw, _source_file, _source_line, _dlt_load_id
from {{ ref('base_crm__deals') }}
where _reject_reason is null
