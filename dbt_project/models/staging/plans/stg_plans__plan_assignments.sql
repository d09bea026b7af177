select
    assignment_id,
    cast(employee_id as {{ dbt.type_string() }}) as employee_id,
    plan_id,
    {{ parse_date('effective_from') }} as effective_from,
    {{ parse_date('effective_to') }} as effective_to,
    _source_file,
    _source_line,
    _dlt_load_id
from {{ source('plans', 'plan_assignments') }}
