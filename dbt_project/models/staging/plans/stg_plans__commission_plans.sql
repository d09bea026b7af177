select
    {{ dbt.concat(['plan_id', "'|v'", 'version']) }} as plan_version_key,
    plan_id,
    {{ parse_integer('version') }} as plan_version,
    name as plan_name,
    {{ parse_date('effective_from') }} as effective_from,
    {{ parse_date('effective_to') }} as effective_to,
    upper(trim(currency)) as currency_code,
    coalesce(period, 'month') as plan_period,
    {{ parse_integer('clawback_window_days') }} as clawback_window_days,
    coalesce(nullif(lower(trim(rate_unit)), ''), 'fraction') as rate_unit,
    upper(trim(reporting_currency)) as reporting_currency_code,
    definition_json,
    _source_file,
    {{ parse_integer('_source_line') }} as _source_line,
    _source_location,
    _dlt_load_id
from {{ source('plans', 'commission_plans') }}
