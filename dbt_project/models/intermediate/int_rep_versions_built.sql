{#-
  Type-2 versions of every employee from the effective-dated job history.
  valid_from is inclusive, valid_to exclusive; the first version starts at the hire date, the
  last ends the day after termination (or 9999-12-31 while employed).
-#}
with jobs as (
    select * from {{ ref('stg_hris__job_history') }}
),

employees as (
    select * from {{ ref('stg_hris__employees') }}
),

links as (
    select owner_id, employee_id
    from {{ ref('int_owners_linked_to_employees') }}
    where match_status = 'matched'
),

bounded as (
    select
        jobs.employee_id,
        jobs.job_info_id,
        jobs.job_sequence,
        case
            when jobs.job_sequence = 1 and employees.hire_date < jobs.effective_date then employees.hire_date
            else jobs.effective_date
        end as valid_from,
        least(
            coalesce(jobs.next_effective_date, cast('9999-12-31' as date)),
            coalesce({{ dbt.dateadd('day', 1, 'employees.termination_date') }}, cast('9999-12-31' as date))
        ) as valid_to,
        jobs.next_effective_date is null as is_current,
        jobs.job_title,
        jobs.department,
        jobs.division as region,
        jobs.location,
        jobs.sales_team as team_name,
        jobs.territory_code,
        jobs.manager_employee_id,
        jobs.manager_name,
        employees.display_name as rep_name,
        employees.work_email,
        employees.hire_date,
        employees.termination_date
    from jobs
    inner join employees
        on jobs.employee_id = employees.employee_id
)

select
    {{ dbt.concat(['bounded.employee_id', "':'", dbt.cast('bounded.job_sequence', dbt.type_string())]) }}
        as rep_version_key,
    bounded.employee_id,
    links.owner_id,
    bounded.rep_name,
    bounded.work_email,
    bounded.job_title,
    bounded.department,
    bounded.region,
    bounded.location,
    bounded.team_name,
    bounded.territory_code,
    bounded.manager_employee_id,
    bounded.manager_name,
    bounded.hire_date,
    bounded.termination_date,
    cast(bounded.valid_from as date) as valid_from,
    cast(bounded.valid_to as date) as valid_to,
    bounded.is_current,
    bounded.job_sequence as version_number
from bounded
left join links
    on bounded.employee_id = links.employee_id
where bounded.valid_from < bounded.valid_to
