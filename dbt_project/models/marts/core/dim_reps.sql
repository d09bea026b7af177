{#- One row per rep version (type 2): a rep's team, manager, territory and title over time. -#}
with versions as (
    select * from {{ ref('int_rep_versions_built') }}
),

quota_carriers as (
    select distinct employee_id from {{ ref('stg_plans__quotas') }}
)

select
    versions.rep_version_key,
    versions.employee_id,
    versions.owner_id,
    versions.rep_name,
    versions.work_email,
    versions.job_title,
    versions.department,
    versions.region,
    versions.territory_code,
    versions.team_name,
    versions.location,
    versions.manager_employee_id,
    versions.manager_name,
    versions.hire_date,
    versions.termination_date,
    versions.valid_from,
    versions.valid_to,
    versions.is_current,
    versions.version_number,
    versions.termination_date is null as is_employed,
    quota_carriers.employee_id is not null as is_quota_carrying
from versions
left join quota_carriers
    on versions.employee_id = quota_carriers.employee_id
