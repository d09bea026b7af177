{#-
  One row per stage change from the deal stage history: the stage left and the stage entered,
  when, how long the deal then stayed, and whether it moved forward or backward in the
  pipeline's order. The first entry of a deal has no from-stage (the deal was created there).
  direction: created | forward | backward (between open stages, by stage order) | won | lost
  (into a closed stage) | cancelled (from won to lost: a signed deal cancelled later).
-#}
with history as (
    select
        history.deal_stage_entry_id,
        history.deal_id,
        deals.pipeline_id,
        history.deal_stage_id,
        history.entered_at,
        history.stage_sequence
    from {{ ref('stg_crm__deal_stage_history') }} as history
    inner join {{ ref('stg_crm__deals') }} as deals
        on history.deal_id = deals.deal_id
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
    left join {{ ref('dim_deal_stages') }} as stages
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
    case
        when from_stage_id is null then 'created'
        when is_lost and from_is_won then 'cancelled'
        when is_won then 'won'
        when is_lost then 'lost'
        when stage_order > from_stage_order then 'forward'
        when stage_order < from_stage_order then 'backward'
        else 'same'
    end as direction
from ordered
