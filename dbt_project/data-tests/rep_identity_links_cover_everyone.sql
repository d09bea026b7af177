{{ config(meta={'dagster': {'ref': {'name': 'mart_rep_identity_links'}}}) }}
{#- Nobody is dropped by the owner-employee link: every owner and every employee has a row. -#}
select 'owner' as side, owners.owner_id as id
from {{ ref('stg_crm__owners') }} as owners
left join {{ ref('mart_rep_identity_links') }} as links on owners.owner_id = links.owner_id
where links.link_key is null
union all
select 'employee' as side, employees.employee_id as id
from {{ ref('stg_hris__employees') }} as employees
left join {{ ref('mart_rep_identity_links') }} as links on employees.employee_id = links.employee_id
where links.link_key is null
