select
    {{ dbt.concat(['period_month', "'|'", 'upper(trim(currency))']) }} as fx_rate_key,
    period_month,
    {{ parse_date("period_month || '-01'") }} as period_start_date,
    upper(trim(currency)) as currency_code,
    {{ parse_decimal('rate_to_reporting', 18, 6) }} as rate_to_reporting,
    _source_file,
    _source_line,
    _dlt_load_id
from {{ source('plans', 'fx_rates') }}
