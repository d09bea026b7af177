{#- Records that passed every check of base_hris__employees; the others are in rejects_hris__employees. -#}
select
    employee_id, employee_number, first_name, last_name, display_name, work_email, job_title, department, division,
    location, manager_employee_id, sales_team, territory_code, hire_date, termination_date, employment_status,
    termination_date is null or employment_status = 'Active' as is_active,
    last_changed_at, _source_file, _dlt_load_id
from {{ ref('base_hris__employees') }}
where _reject_reason is null
