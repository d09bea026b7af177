select
    {{ dbt.concat(['plan_id', "'|v'", 'version', "'|'", 'component_id', "'|'", 'tier_number']) }} as plan_tier_key,
    {{ dbt.concat(['plan_id', "'|v'", 'version', "'|'", 'component_id']) }} as plan_component_key,
    plan_id,
    {{ parse_integer('version') }} as plan_version,
    component_id,
    {{ parse_integer('tier_number') }} as tier_number,
    {{ parse_decimal('from_attainment', 9, 4) }} as from_attainment,
    {{ parse_decimal('to_attainment', 9, 4) }} as to_attainment,
    case
        when lower(trim(rate_unit)) = 'percent' then cast({{ parse_decimal('rate', 12, 8) }} / 100 as decimal(9, 6))
        else {{ parse_decimal('rate', 9, 6) }}
    end as rate,
    coalesce(nullif(lower(trim(rate_unit)), ''), 'fraction') as rate_unit,
    _source_file,
    {{ parse_integer('_source_line') }} as _source_line,
    _source_location,
    _dlt_load_id
from {{ source('plans', 'plan_tiers') }}
