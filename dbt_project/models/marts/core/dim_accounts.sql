{#- One row per CRM company (account); archived companies stay with is_archived = true. -#}
select
    company_id as account_id,
    company_name as account_name,
    company_domain as account_domain,
    industry,
    country,
    city,
    employee_count,
    annual_revenue,
    owner_id,
    created_at,
    is_archived
from {{ ref('stg_crm__companies') }}
