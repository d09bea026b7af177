{#- Records that passed every check of base_crm__companies; the others are in rejects_crm__companies. -#}
select
    company_id, company_name, company_domain, industry, country, city, employee_count, annual_revenue,
    owner_id, created_at, updated_at, is_archived, archived_at, _source_file, _source_line, _dlt_load_id
from {{ ref('base_crm__companies') }}
where _reject_reason is null
