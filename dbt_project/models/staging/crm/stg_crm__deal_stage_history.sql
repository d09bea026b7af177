{#-
  One row per deal stage entry, ordered per deal; a repeated entry (same deal, stage, time) counts
  once. The history of a deal kept out of staging (rejects_crm__deals) is held back with it.
-#}
with source as (
    select * from {{ source('crm', 'deal_stage_history') }}
    where cast(deal_id as {{ dbt.type_string() }}) not in (
        select deal_id from {{ ref('base_crm__deals') }} where _reject_reason is not null
    )
),

typed as (
    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        value as deal_stage_id,
        {{ utc_timestamp('changed_at') }} as entered_at,
        source_type as change_source_type,
        source_id as change_source_id,
        _source_file,
        _dlt_load_id
    from source
),

deduplicated as (
    select
        *,
        {{ latest_first('deal_id, deal_stage_id, entered_at', '_dlt_load_id desc') }} as duplicate_rank
    from typed
)

select
    {{ dbt.concat(['deal_id', "'|'", 'deal_stage_id', "'|'", dbt.cast('entered_at', dbt.type_string())]) }}
        as deal_stage_entry_id,
    deal_id,
    deal_stage_id,
    entered_at,
    row_number() over (partition by deal_id order by entered_at, deal_stage_id) as stage_sequence,
    change_source_type,
    change_source_id,
    _source_file,
    _dlt_load_id
from deduplicated
where duplicate_rank = 1
