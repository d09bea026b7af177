{#-
  Links CRM owners to HRIS employees by e-mail (lower-cased, trimmed). Both sides are kept:
  owners with no employee and employees with no owner are reported, not dropped.
-#}
with owners as (
    select owner_id, owner_email, first_name, last_name, is_archived
    from {{ ref('stg_crm__owners') }}
),

employees as (
    select employee_id, work_email, display_name, department
    from {{ ref('stg_hris__employees') }}
),

linked as (
    select
        owners.owner_id,
        employees.employee_id,
        coalesce(owners.owner_email, employees.work_email) as email,
        coalesce(employees.display_name, owners.first_name || ' ' || owners.last_name) as person_name,
        employees.department,
        owners.is_archived as is_owner_archived,
        case
            when owners.owner_id is not null and employees.employee_id is not null then 'matched'
            when employees.employee_id is null then 'owner_without_employee'
            else 'employee_without_owner'
        end as match_status
    from owners
    full outer join employees
        on owners.owner_email = employees.work_email
)

select
    {{ dbt.concat(["coalesce(owner_id, '-')", "'|'", "coalesce(employee_id, '-')"]) }} as link_key,
    owner_id,
    employee_id,
    email,
    person_name,
    department,
    is_owner_archived,
    match_status
from linked
