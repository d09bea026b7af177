select
    {{ dbt.concat(['plan_id', "'|v'", 'version', "'|'", 'component_id', "'|'", 'tier_number']) }} as plan_tier_key,
    {{ dbt.concat(['plan_id', "'|v'", 'version', "'|'", 'component_id']) }} as plan_component_key,
    plan_id,
    {{ parse_integer('version') }} as plan_version,
    component_id,
    {{ parse_integer('tier_number') }} as tier_number,
    {{ parse_decimal('from_attainment', 9, 4) }} as from_attainment,
    {{ parse_decimal('to_attainment', 9, 4) }} as to_attainment,
    {{ parse_decimal('rate', 9, 6) }} as rate,
    _source_file,
    {{ parse_integer('_source_line') }} as _source_line,
    _source_location,
    _dlt_load_id
from {{ source('plans', 'plan_tiers') }}
