-- The employee directory (small: always the whole table).
select
    r.id as employee_id,
    lower(trim(r.work_email)) as work_email,
    try_cast(nullif(r.hire_date, '0000-00-00') as date) as hire_date,
    try_cast(nullif(r.termination_date, '0000-00-00') as date) as termination_date,
    nullif(trim(r.supervisor_e_id), '') as manager_employee_id,
    r._source_file
from raw_hris.employees as r
where {scope}
