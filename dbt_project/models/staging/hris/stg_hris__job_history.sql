{#- Effective-dated job rows; valid_to is the next row's effective date (exclusive), null for the current row. -#}
with source as (
    select * from {{ source('hris', 'job_info') }}
),

ranked as (
    select
        cast(id as {{ dbt.type_string() }}) as job_info_id,
        cast(employee_id as {{ dbt.type_string() }}) as employee_id,
        {{ parse_date('date') }} as effective_date,
        job_title,
        department,
        division,
        location,
        reports_to as manager_name,
        nullif(trim(reports_to_e_id), '') as manager_employee_id,
        custom_sales_team as sales_team,
        custom_territory as territory_code,
        _source_file,
        _dlt_load_id,
        {{ latest_first('id', '_source_file desc, _dlt_load_id desc') }} as version_rank
    from source
)

select
    job_info_id,
    employee_id,
    effective_date,
    lead(effective_date) over (partition by employee_id order by effective_date, job_info_id) as next_effective_date,
    row_number() over (partition by employee_id order by effective_date, job_info_id) as job_sequence,
    job_title,
    department,
    division,
    location,
    manager_name,
    manager_employee_id,
    sales_team,
    territory_code,
    _source_file,
    _dlt_load_id
from ranked
where version_rank = 1
