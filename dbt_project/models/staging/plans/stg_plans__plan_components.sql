select
    {{ dbt.concat(['plan_id', "'|v'", 'version', "'|'", 'component_id']) }} as plan_component_key,
    {{ dbt.concat(['plan_id', "'|v'", 'version']) }} as plan_version_key,
    plan_id,
    {{ parse_integer('version') }} as plan_version,
    component_id,
    lower(trim(type)) as component_type,
    lower(trim(tier_method)) as tier_method,
    {{ parse_decimal('gate_min_attainment', 9, 4) }} as gate_min_attainment,
    {{ parse_decimal('cap_amount') }} as cap_amount,
    definition_json,
    _source_file,
    _dlt_load_id
from {{ source('plans', 'plan_components') }}
