{{ config(meta={'dagster': {'ref': {'name': 'stg_crm__deals'}}}) }}
{#-
  What fct_deals relies on holds for every staged deal: an amount within +/- var('max_deal_amount')
  in its currency and converted at the rate fct_deals joins, that rate, a stage of its pipeline,
  close and create dates within var('deal_dates_from') .. var('deal_dates_to'). base_crm__deals
  rejects the deals that break it; were a check ever lost, this fails and dbt skips the facts
  instead of a fact failing on a value without naming the deal. One row per deal and problem.
-#}
{%- set amount_limit = var('max_deal_amount') %}
{%- set date_window = "cast('" ~ var('deal_dates_from') ~ "' as date) and cast('" ~ var('deal_dates_to') ~ "' as date)" %}
with fx as (
    {{ fx_rate_periods() }}
),

deals as (
    select
        deals.deal_id,
        deals.amount,
        deals.close_date,
        cast(deals.created_at as date) as create_date,
        stages.deal_stage_id is not null as stage_is_known,
        fx.rate_to_reporting
    from {{ ref('stg_crm__deals') }} as deals
    left join (select distinct pipeline_id, deal_stage_id from {{ ref('stg_crm__pipeline_stages') }}) as stages
        on deals.pipeline_id = stages.pipeline_id
        and deals.deal_stage_id = stages.deal_stage_id
    left join fx
        on {{ deal_fx_matches('deals', 'fx') }}
),

problems as (
    select deal_id, 'no amount, or one out of range' as problem
    from deals where amount is null or abs(amount) >= {{ amount_limit }}
    union all
    select deal_id, 'no FX rate' from deals where rate_to_reporting is null
    union all
    select deal_id, 'amount in the reporting currency out of range' from deals
    where abs(cast(amount as decimal(38, 2)) * cast(rate_to_reporting as decimal(38, 6))) >= {{ amount_limit }}
    union all
    select deal_id, 'unknown stage' from deals where not stage_is_known
    union all
    select deal_id, 'close or create date outside the window' from deals
    where close_date not between {{ date_window }} or create_date not between {{ date_window }}
        or create_date is null
)

select deal_id, problem from problems
