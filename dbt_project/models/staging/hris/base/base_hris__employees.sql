{#- Every record in its latest version, typed, with the first check it fails (null: clean). -#}
with source as (
    select * from {{ source('hris', 'employees') }}
),

ranked as (
    select
        cast(id as {{ dbt.type_string() }}) as employee_id,
        employee_number,
        first_name,
        last_name,
        coalesce(display_name, first_name || ' ' || last_name) as display_name,
        lower(trim(work_email)) as work_email,
        job_title,
        department,
        division,
        location,
        nullif(trim(supervisor_e_id), '') as manager_employee_id,
        custom_sales_team as sales_team,
        custom_territory as territory_code,
        {{ parse_date('hire_date') }} as hire_date,
        {{ parse_date('termination_date') }} as termination_date,
        status as employment_status,
        {{ utc_timestamp('last_changed') }} as last_changed_at,
        {{ reject_columns([
            missing_value('hire_date', 'employee has no hire date'),
            unparseable_date('hire_date'),
            unparseable_date('termination_date'),
        ]) }},
        _source_file,
        cast(null as bigint) as _source_line,
        _dlt_load_id,
        {{ latest_first('id', '_source_file desc, _dlt_load_id desc') }} as version_rank
    from source
)

select
    employee_id, employee_number, first_name, last_name, display_name, work_email, job_title, department, division,
    location, manager_employee_id, sales_team, territory_code, hire_date, termination_date, employment_status,
    termination_date is null or employment_status = 'Active' as is_active,
    last_changed_at, _source_file, _dlt_load_id,
    _source_line, _reject_reason, _reject_field, _reject_value
from ranked
where version_rank = 1
