{#- A closed stage with probability 1 is won, a closed stage with probability 0 is lost (HubSpot's convention). -#}
with typed as (
    select
        cast(pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(id as {{ dbt.type_string() }}) as deal_stage_id,
        label as deal_stage_label,
        {{ parse_integer('display_order') }} as display_order,
        coalesce({{ parse_boolean('is_closed') }}, false) as is_closed,
        {{ parse_decimal('probability', 5, 4) }} as probability,
        coalesce(archived, false) as is_archived,
        _source_file,
        _dlt_load_id
    from {{ source('crm', 'pipeline_stages') }}
)

select
    {{ dbt.concat(['pipeline_id', "'|'", 'deal_stage_id']) }} as pipeline_stage_key,
    pipeline_id,
    deal_stage_id,
    deal_stage_label,
    display_order,
    is_closed,
    probability,
    is_closed and probability = 1 as is_won,
    is_closed and probability = 0 as is_lost,
    is_archived,
    _source_file,
    _dlt_load_id
from typed
