{#- Full monthly quota as finance set it; proration and ramp are applied downstream (fct_quotas). -#}
select
    {{ dbt.concat(['employee_id', "'|'", 'period_month']) }} as quota_key,
    cast(employee_id as {{ dbt.type_string() }}) as employee_id,
    period_month,
    {{ parse_date("period_month || '-01'") }} as period_start_date,
    {{ parse_decimal('quota_amount') }} as quota_amount,
    upper(trim(currency)) as currency_code,
    _source_file,
    _source_line,
    _dlt_load_id
from {{ source('plans', 'quotas') }}
