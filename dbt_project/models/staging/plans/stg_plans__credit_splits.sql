select
    {{ dbt.concat(['deal_id', "'|'", 'employee_id', "'|'", 'split_type']) }} as credit_split_key,
    cast(deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(employee_id as {{ dbt.type_string() }}) as employee_id,
    lower(trim(split_type)) as split_type,
    {{ parse_decimal('split_pct', 9, 4) }} as split_pct,
    _source_file,
    _source_line,
    _dlt_load_id
from {{ source('plans', 'credit_splits') }}
