{#- One row per pipeline stage: order within its pipeline, probability, won / lost / open. -#}
select
    stages.pipeline_stage_key,
    stages.pipeline_id,
    pipelines.pipeline_label,
    stages.deal_stage_id,
    stages.deal_stage_label,
    stages.display_order as stage_order,
    stages.probability,
    stages.is_closed,
    stages.is_won,
    stages.is_lost,
    not stages.is_closed as is_open
from {{ ref('stg_crm__pipeline_stages') }} as stages
left join {{ ref('stg_crm__pipelines') }} as pipelines
    on stages.pipeline_id = pipelines.pipeline_id
