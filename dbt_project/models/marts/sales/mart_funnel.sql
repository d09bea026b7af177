{#-
  Funnel conversion by cohort month, one row per cohort month x funnel x step.
  funnel 'lifecycle': cohort = month the lead (contact) was created; steps lead -> qualified
  (became a sales-qualified lead) -> proposal (its deal reached a stage with order >= the
  proposal stage, var('funnel_proposal_stage_order'), 2 = presentationscheduled) -> won.
  funnel '<pipeline id>': cohort = month the deal was created; step = each open stage; a deal
  entered a stage if it reached that stage or a later one (skipped stages count as passed);
  it advanced if it reached a later stage. conversion_rate = advanced / entered;
  leakage_rate = 1 - conversion_rate (both to 4 decimals, adding up to 1). Archived deals are
  left out. No cohort month starts after the as-of date (macros/as_of.sql); is_complete_period
  marks the cohort month still running (its members may join until its end; every cohort keeps
  advancing after it).
-#}
{%- set proposal_order = var('funnel_proposal_stage_order', 2) -%}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

deals as (
    select deal_id, pipeline_id, created_date, was_won, primary_contact_id
    from {{ ref('fct_deals') }}
    inner join (select deal_id, primary_contact_id from {{ ref('stg_crm__deals') }}) as contacts using (deal_id)
    where not is_archived
),

reached as (
    {#- the furthest open-stage order each deal reached -#}
    select
        transitions.deal_id,
        max(case when not stages.is_closed then stages.stage_order end) as furthest_open_order
    from {{ ref('fct_deal_stage_transitions') }} as transitions
    inner join {{ ref('dim_deal_stages') }} as stages
        on transitions.to_pipeline_stage_key = stages.pipeline_stage_key
    group by transitions.deal_id
),

deal_progress as (
    select
        deals.*,
        case when deals.was_won then 1000 else coalesce(reached.furthest_open_order, 0) end as furthest_order
    from deals
    left join reached on deals.deal_id = reached.deal_id
),

open_stages as (
    select pipeline_id, deal_stage_id, stage_order
    from {{ ref('dim_deal_stages') }}
    where not is_closed
),

pipeline_steps as (
    select
        cast({{ dbt.date_trunc('month', 'deal_progress.created_date') }} as date) as cohort_month,
        deal_progress.pipeline_id as funnel,
        open_stages.stage_order as step_order,
        open_stages.deal_stage_id as step,
        count(*) as entered,
        count(case when deal_progress.furthest_order > open_stages.stage_order then 1 end) as advanced
    from deal_progress
    inner join open_stages
        on deal_progress.pipeline_id = open_stages.pipeline_id
        and deal_progress.furthest_order >= open_stages.stage_order
    group by 1, 2, 3, 4
),

contact_deals as (
    {#- per contact, whether one of the deals it is the primary contact of reached the proposal
        stage or was won (aggregated over 1 M deals rather than grouping 2.4 M contacts) -#}
    select
        primary_contact_id as contact_id,
        max(case when furthest_order >= {{ proposal_order }} then 1 else 0 end) = 1 as is_proposal,
        max(case when was_won then 1 else 0 end) = 1 as is_won
    from deal_progress
    where primary_contact_id is not null
    group by primary_contact_id
),

leads as (
    select
        contacts.contact_id,
        cast({{ dbt.date_trunc('month', 'contacts.created_at') }} as date) as cohort_month,
        contacts.became_sql_at is not null as is_qualified,
        coalesce(contact_deals.is_proposal, false) as is_proposal,
        coalesce(contact_deals.is_won, false) as is_won
    from {{ ref('stg_crm__contacts') }} as contacts
    left join contact_deals on contacts.contact_id = contact_deals.contact_id
    where not contacts.is_archived
),

lifecycle_counts as (
    {#- one pass over the 2.4 M leads for the four steps (not one per step) -#}
    select
        cohort_month,
        count(*) as leads,
        count(case when is_qualified then 1 end) as qualified,
        count(case when is_qualified and is_proposal then 1 end) as proposals,
        count(case when is_qualified and is_proposal and is_won then 1 end) as won
    from leads
    group by cohort_month
),

lifecycle_steps as (
    select cohort_month, 'lifecycle' as funnel, 0 as step_order, 'lead' as step, leads as entered, qualified as advanced
    from lifecycle_counts
    union all
    select cohort_month, 'lifecycle', 1, 'qualified', qualified, proposals from lifecycle_counts
    union all
    select cohort_month, 'lifecycle', 2, 'proposal', proposals, won from lifecycle_counts
    union all
    select cohort_month, 'lifecycle', 3, 'won', won, 0 from lifecycle_counts
),

steps as (
    select * from pipeline_steps
    union all
    select * from lifecycle_steps
),

conversions as (
    select
        steps.*,
        case when entered > 0 and step != 'won'
            then {{ rounded('cast(advanced as double) / entered', 'fraction') }} end as conversion_rate
    from steps
)

select
    {{ dbt.concat([dbt.cast('cohort_month', dbt.type_string()), "'|'", 'funnel', "'|'", 'step']) }} as funnel_key,
    conversions.cohort_month,
    {{ is_complete_period(period_end_date("'month'", 'conversions.cohort_month'), 'as_of.as_of_date') }}
        as is_complete_period,
    conversions.funnel,
    conversions.step_order,
    conversions.step,
    conversions.entered,
    conversions.advanced,
    conversions.conversion_rate,
    {{ rounded('1 - conversions.conversion_rate', 'fraction') }} as leakage_rate
from conversions
cross join as_of
where conversions.cohort_month <= as_of.as_of_date
