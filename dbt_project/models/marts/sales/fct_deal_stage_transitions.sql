{#-
  One row per stage change from the deal stage history: the stage left and the stage entered,
  when, how long the deal then stayed, and whether it moved forward or backward in the
  pipeline's order. The first entry of a deal has no from-stage (the deal was created there).
  direction: created | forward | backward (between open stages, by stage order) | won | lost
  (into a closed stage) | cancelled (from won to lost: a signed deal cancelled later).

  Incremental, by deal (4 M entries at the large scale took 5 to 6 s to derive whole every day).
  A run re-derives every transition of
  - the deals whose stage history was loaded since this table's last build (dlt replaces a deal's
    whole history whenever the deal changes, a move to another pipeline included),
  - the deals in the stage history but not here (held back before and let through now), and
  - the deals with a transition whose direction the stage definitions no longer give (a stage
    reordered, or made won or lost);
  the post-hook deletes the deals staging holds back now. A table built before this model was
  incremental has no _dlt_load_id: its first incremental run adds the columns and re-derives
  every deal. `dbt build --full-refresh -s fct_deal_stage_transitions` rebuilds it from scratch.
-#}
{{ config(
    materialized='incremental',
    unique_key='deal_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=["{{ delete_held_back_deals() }}"],
) }}
-- depends_on: {{ ref('base_crm__deals') }}
{%- set derive_all = not is_incremental() or this_lacks_column('_dlt_load_id') %}
with stages as (
    select pipeline_id, deal_stage_id, stage_order, is_won, is_lost from {{ ref('dim_deal_stages') }}
),
{%- if not derive_all %}

deals_to_derive as (
    {{ keys_loaded_since_last_build(ref('stg_crm__deal_stage_history'), 'deal_id', 'deal_id') }}
    union
    select built.deal_id
    from {{ this }} as built
    left join stages as to_stage
        on built.pipeline_id = to_stage.pipeline_id
        and built.to_stage_id = to_stage.deal_stage_id
    left join stages as from_stage
        on built.pipeline_id = from_stage.pipeline_id
        and built.from_stage_id = from_stage.deal_stage_id
    where built.direction is distinct from {{ transition_direction(
        'built.from_stage_id', 'from_stage.is_won', 'from_stage.stage_order',
        'to_stage.is_won', 'to_stage.is_lost', 'to_stage.stage_order') }}
),
{%- endif %}

history as (
    select
        history.deal_stage_entry_id,
        history.deal_id,
        deals.pipeline_id,
        history.deal_stage_id,
        history.entered_at,
        history.stage_sequence,
        history._dlt_load_id
    {%- if derive_all %}
    from {{ ref('stg_crm__deal_stage_history') }} as history
    inner join {{ ref('stg_crm__deals') }} as deals
        on history.deal_id = deals.deal_id
    {%- else %}
    {#- both sides narrowed to the deals to derive before the join (not after: every history row
        and every deal was then read into the join) #}
    from (
        select * from {{ ref('stg_crm__deal_stage_history') }}
        where deal_id in (select deal_id from deals_to_derive)
    ) as history
    inner join (
        select * from {{ ref('stg_crm__deals') }}
        where deal_id in (select deal_id from deals_to_derive)
    ) as deals
        on history.deal_id = deals.deal_id
    {%- endif %}
),

ordered as (
    select
        history.*,
        stages.stage_order,
        stages.is_won,
        stages.is_lost,
        lag(stages.is_won) over (partition by history.deal_id order by history.stage_sequence) as from_is_won,
        lag(history.deal_stage_id) over (partition by history.deal_id order by history.stage_sequence)
            as from_stage_id,
        lag(stages.stage_order) over (partition by history.deal_id order by history.stage_sequence)
            as from_stage_order,
        lead(history.entered_at) over (partition by history.deal_id order by history.stage_sequence) as left_at
    from history
    left join stages
        on history.pipeline_id = stages.pipeline_id
        and history.deal_stage_id = stages.deal_stage_id
)

select
    deal_stage_entry_id as transition_id,
    deal_id,
    pipeline_id,
    stage_sequence,
    from_stage_id,
    deal_stage_id as to_stage_id,
    pipeline_id || '|' || deal_stage_id as to_pipeline_stage_key,
    entered_at,
    left_at,
    cast({{ dbt.datediff('entered_at', 'left_at', 'second') }} as double) / 86400 as days_in_stage,
    {{ transition_direction('from_stage_id', 'from_is_won', 'from_stage_order', 'is_won', 'is_lost', 'stage_order') }}
        as direction,
    _dlt_load_id,
    {{ staged_at() }} as staged_at
from ordered
