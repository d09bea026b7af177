{#-
  One row per deal (accumulating snapshot). Dates that matter to finance are explicit:
  close_date is the UTC date of HubSpot's closedate (actual for closed deals, expected for open
  ones); won_date is the first time the deal entered a won stage. amount is in the deal's
  currency; amount_reporting converts it at the FX rate of the close month (the latest month with
  a rate, when the close month has none yet; the creation month for an open deal without a close
  date). The owner's rep
  version is the one valid on the close date (closed deals) or the current one (open deals).
-#}
with deals as (
    select * from {{ ref('stg_crm__deals') }}
),

stages as (
    select * from {{ ref('dim_deal_stages') }}
),

history as (
    select
        history.deal_id,
        history.entered_at,
        stages.is_won,
        stages.is_lost
    from {{ ref('stg_crm__deal_stage_history') }} as history
    inner join deals on history.deal_id = deals.deal_id
    left join stages
        on deals.pipeline_id = stages.pipeline_id
        and history.deal_stage_id = stages.deal_stage_id
),

milestones as (
    select
        deal_id,
        min(entered_at) as first_stage_entered_at,
        min(case when is_won then entered_at end) as first_won_at,
        max(case when is_lost then entered_at end) as last_lost_at
    from history
    group by deal_id
),

fx as (
    {#- a month's rate applies until the next month with a rate (the latest rate carries forward) -#}
    select
        currency_code,
        rate_to_reporting,
        period_start_date as valid_from,
        coalesce(
            lead(period_start_date) over (partition by currency_code order by period_start_date),
            cast('9999-12-31' as date)
        ) as valid_to
    from {{ ref('stg_plans__fx_rates') }}
),

reps as (
    select rep_version_key, employee_id, owner_id, valid_from, valid_to, is_current
    from {{ ref('dim_reps') }}
    where owner_id is not null
),

enriched as (
    select
        deals.*,
        stages.pipeline_stage_key,
        stages.probability as stage_probability,
        coalesce(stages.is_won, false) as is_won,
        coalesce(stages.is_lost, false) as is_lost,
        not coalesce(stages.is_closed, false) as is_open,
        milestones.first_stage_entered_at,
        milestones.first_won_at,
        milestones.first_won_at is not null as was_won,
        milestones.first_won_at is not null and coalesce(stages.is_lost, false) as is_cancelled,
        case
            when milestones.first_won_at is not null and coalesce(stages.is_lost, false) then milestones.last_lost_at
        end as cancelled_at,
        fx.rate_to_reporting
    from deals
    left join stages
        on deals.pipeline_id = stages.pipeline_id
        and deals.deal_stage_id = stages.deal_stage_id
    left join milestones on deals.deal_id = milestones.deal_id
    left join fx
        on fx.currency_code = deals.currency_code
        and cast({{ dbt.date_trunc('month', 'coalesce(deals.close_date, cast(deals.created_at as date))') }} as date)
            >= fx.valid_from
        and cast({{ dbt.date_trunc('month', 'coalesce(deals.close_date, cast(deals.created_at as date))') }} as date)
            < fx.valid_to
)

select
    enriched.deal_id,
    enriched.deal_name,
    enriched.pipeline_id,
    enriched.deal_stage_id,
    enriched.pipeline_stage_key,
    enriched.company_id as account_id,
    enriched.owner_id,
    reps.rep_version_key,
    reps.employee_id,
    enriched.deal_type,
    enriched.created_at,
    cast(enriched.created_at as date) as created_date,
    enriched.first_stage_entered_at,
    enriched.closed_at,
    enriched.close_date,
    cast(enriched.first_won_at as date) as won_date,
    enriched.cancelled_at,
    enriched.is_open,
    enriched.is_won,
    enriched.is_lost,
    enriched.was_won,
    enriched.is_cancelled,
    enriched.amount,
    enriched.currency_code,
    enriched.rate_to_reporting,
    cast(round({{ wide_decimal('enriched.amount') }} * enriched.rate_to_reporting, 2) as decimal(18, 2)) as amount_reporting,
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    enriched.stage_probability,
    cast(round({{ wide_decimal('enriched.amount') }} * enriched.rate_to_reporting * enriched.stage_probability, 2) as decimal(18, 2))
        as weighted_amount_reporting,
    case
        when not enriched.is_open then {{ dbt.datediff('cast(enriched.created_at as date)', 'enriched.close_date', 'day') }}
    end as sales_cycle_days,
    enriched.contract_term_months,
    enriched.is_archived
from enriched
left join reps
    on enriched.owner_id = reps.owner_id
    and (
        (not enriched.is_open and enriched.close_date >= reps.valid_from and enriched.close_date < reps.valid_to)
        or (enriched.is_open and reps.is_current)
    )
