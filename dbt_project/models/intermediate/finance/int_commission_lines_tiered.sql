{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Deal-level commission of every rate-table component (domain.md section 2), one row per credit and
  band it falls in. Within a plan segment (rep x month x plan version), credits fill the bands in
  order of credit date, then deal id:
  - marginal: band b spans [from_attainment x quota, to_attainment x quota); each credit pays each
    band's rate on the part of it inside that band (a credit straddling a boundary gives two lines);
  - retroactive: every credit pays the rate of the band the segment's final attainment reaches;
  - gate: below gate_min_attainment (final attainment) the component pays nothing (lines of 0
    kept, with the reason);
  - a component whose bands need a quota (more than one band, or a gate) pays nothing for a
    segment without a quota: its lines say so, for finance to fix the quota;
  - each line is rounded to the cent (half away from zero); then the cap cuts the lines that
    come last in the fill order until the component's total equals cap_amount.
  Overlay rate tables are filled by overlay credits the same way.
-#}
with credits as (
    select
        credit_key, deal_id, employee_id, credit_type, credit_pct, credit_date, period_month, plan_segment_key,
        plan_version_key, credited_amount, currency_code
    from {{ ref('fct_credits') }}
    where is_on_plan and {{ in_payout_scope('employee_id', 'period_month') }}
),

segments as (
    select plan_segment_key, segment_quota_amount from {{ ref('int_plan_segments_dated') }}
),

components as (
    select plan_component_key, plan_version_key, component_id, tier_method, credit_type,
        coalesce(gate_min_attainment, 0) as gate_min_attainment, cap_amount
    from {{ ref('stg_plans__plan_components') }}
    where component_type = 'rate_table'
),

tiers as (
    select
        plan_component_key, tier_number, from_attainment, to_attainment, rate,
        count(*) over (partition by plan_component_key) as band_count
    from {{ ref('stg_plans__plan_tiers') }}
),

component_shape as (
    select plan_component_key, max(band_count) as band_count from tiers group by plan_component_key
),

filled as (
    select
        credits.*,
        components.plan_component_key,
        components.component_id,
        components.tier_method,
        components.gate_min_attainment,
        components.cap_amount,
        segments.segment_quota_amount as quota_amount,
        component_shape.band_count > 1 or components.gate_min_attainment > 0 as needs_quota,
        sum(credits.credited_amount) over (
            partition by credits.plan_segment_key, components.component_id
            order by credits.credit_date, credits.deal_id
            rows between unbounded preceding and current row
        ) as filled_after,
        sum(credits.credited_amount) over (partition by credits.plan_segment_key, components.component_id)
            as segment_credited
    from credits
    inner join components
        on credits.plan_version_key = components.plan_version_key
        and credits.credit_type = components.credit_type
    inner join segments on credits.plan_segment_key = segments.plan_segment_key
    inner join component_shape on components.plan_component_key = component_shape.plan_component_key
),

measured as (
    select
        filled.*,
        filled.filled_after - filled.credited_amount as filled_before,
        case
            when filled.quota_amount > 0 then filled.segment_credited / filled.quota_amount
        end as final_attainment
    from filled
),

held as (
    {#- no quota where the bands need one, or below the gate: the credit pays nothing -#}
    select
        measured.*,
        cast(null as integer) as tier_number,
        cast(0 as decimal(9, 6)) as rate,
        cast(0 as decimal(18, 2)) as band_amount,
        case
            when measured.needs_quota and measured.final_attainment is null
                then 'held: no quota for the period, the bands cannot be placed'
            else 'gate: attainment ' || cast(cast(measured.final_attainment as decimal(9, 4)) as {{ dbt.type_string() }})
                || ' below ' || cast(measured.gate_min_attainment as {{ dbt.type_string() }})
        end as rule_applied
    from measured
    where (measured.needs_quota and measured.final_attainment is null)
        or measured.final_attainment < measured.gate_min_attainment
),

payable as (
    select measured.*
    from measured
    where not ((measured.needs_quota and measured.final_attainment is null)
        or coalesce(measured.final_attainment < measured.gate_min_attainment, false))
),

marginal as (
    select
        payable.*,
        tiers.tier_number,
        tiers.rate,
        least(payable.filled_after, coalesce({{ wide_decimal('tiers.to_attainment') }} * payable.quota_amount, payable.filled_after))
            - greatest(payable.filled_before, case when tiers.from_attainment = 0 then 0 else {{ wide_decimal('tiers.from_attainment') }} * payable.quota_amount end)
            as band_amount,
        'marginal band ' || cast(tiers.tier_number as {{ dbt.type_string() }}) || ' ['
            || cast(tiers.from_attainment as {{ dbt.type_string() }}) || ', '
            || coalesce(cast(tiers.to_attainment as {{ dbt.type_string() }}), 'and above') || ') of quota at '
            || cast(tiers.rate as {{ dbt.type_string() }}) as rule_applied
    from payable
    inner join tiers on payable.plan_component_key = tiers.plan_component_key
    where payable.tier_method = 'marginal'
),

retroactive as (
    select
        payable.*,
        tiers.tier_number,
        tiers.rate,
        payable.credited_amount as band_amount,
        'retroactive: attainment ' || coalesce(cast(cast(payable.final_attainment as decimal(9, 4)) as {{ dbt.type_string() }}), 'n/a')
            || ' reaches band ' || cast(tiers.tier_number as {{ dbt.type_string() }}) || ', whole credit at '
            || cast(tiers.rate as {{ dbt.type_string() }}) as rule_applied
    from payable
    inner join tiers
        on payable.plan_component_key = tiers.plan_component_key
        and (
            (payable.final_attainment is null and tiers.band_count = 1)
            or (payable.final_attainment >= tiers.from_attainment
                and (tiers.to_attainment is null or payable.final_attainment < tiers.to_attainment))
        )
    where payable.tier_method = 'retroactive'
),

lines as (
    select * from marginal where band_amount > 0
    union all
    select * from retroactive
    union all
    select * from held
),

rounded as (
    select
        lines.*,
        cast(round({{ wide_decimal('lines.band_amount') }} * lines.rate, 2) as decimal(18, 2)) as uncapped_amount
    from lines
),

capped as (
    select
        rounded.*,
        sum(rounded.uncapped_amount) over (
            partition by rounded.plan_segment_key, rounded.component_id
            order by rounded.credit_date, rounded.deal_id, rounded.tier_number
            rows between unbounded preceding and current row
        ) as paid_after
    from rounded
)

select
    credit_key,
    deal_id,
    employee_id,
    credit_type,
    credit_pct,
    credit_date,
    period_month,
    plan_segment_key,
    plan_version_key,
    component_id,
    tier_number,
    rate,
    cast(credited_amount as decimal(18, 2)) as credited_amount,
    cast(band_amount as decimal(18, 2)) as band_amount,
    quota_amount,
    cast(final_attainment as decimal(18, 6)) as final_attainment,
    uncapped_amount,
    case
        when cap_amount is null then uncapped_amount
        else greatest(cast(0 as decimal(18, 2)), least(uncapped_amount, cap_amount - (paid_after - uncapped_amount)))
    end as amount,
    case
        when cap_amount is not null and paid_after > cap_amount
            then rule_applied || '; cap ' || cast(cap_amount as {{ dbt.type_string() }}) || ' reached'
        else rule_applied
    end as rule_applied,
    currency_code
from capped
