{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Multiplier and SPIF lines (one row per line), on top of the rate-table commission:
  - multiplier: for each revenue credit whose deal meets the component's conditions, the deal's
    rate-table commission for that credit (after the cap) x (factor - 1): 1.2 pays 20 % more;
  - SPIF, basis per_deal: amount x credit share for each revenue credit dated inside the window
    whose deal meets the conditions;
  - SPIF, basis fixed: amount once per plan segment with at least one such credit (no deal).
  Each line is rounded to the cent.
-#}
with credits as (
    select
        credit_key, deal_id, employee_id, credit_type, credit_pct, credit_date, period_month, plan_segment_key,
        plan_version_key, credited_amount, currency_code, deal_type, pipeline_id, contract_term_months
    from {{ ref('fct_credits') }}
    where is_on_plan and credit_type = 'revenue' and {{ in_payout_scope('employee_id', 'period_month') }}
),

components as (
    select * from {{ ref('stg_plans__plan_components') }}
    where component_type in ('multiplier', 'spif')
),

commission as (
    select credit_key, sum(amount) as commission_amount
    from {{ ref('int_commission_lines_tiered') }}
    where credit_type = 'revenue' and {{ in_payout_scope('employee_id', 'period_month') }}
    group by credit_key
),

multiplier as (
    select
        credits.*,
        components.component_id,
        'multiplier' as line_type,
        components.factor as rate,
        cast(round({{ wide_decimal('commission.commission_amount') }} * (components.factor - 1), 2) as decimal(18, 2)) as amount,
        'multiplier x' || cast(components.factor as {{ dbt.type_string() }}) || ' on the deal''s commission of '
            || cast(commission.commission_amount as {{ dbt.type_string() }}) as rule_applied
    from credits
    inner join components
        on credits.plan_version_key = components.plan_version_key
        and components.component_type = 'multiplier'
        and {{ deal_meets_conditions('components', 'credits') }}
    inner join commission on credits.credit_key = commission.credit_key
    where commission.commission_amount <> 0
),

qualifying_spif as (
    select credits.*, components.component_id, components.amount as spif_amount, coalesce(components.basis, 'per_deal') as basis
    from credits
    inner join components
        on credits.plan_version_key = components.plan_version_key
        and components.component_type = 'spif'
        and {{ deal_meets_conditions('components', 'credits') }}
        and (components.window_from is null or credits.credit_date >= components.window_from)
        and (components.window_to is null or credits.credit_date <= components.window_to)
),

spif_per_deal as (
    select
        qualifying_spif.*,
        'spif' as line_type,
        cast(null as decimal(9, 6)) as rate,
        cast(round({{ wide_decimal('spif_amount') }} * credit_pct / 100, 2) as decimal(18, 2)) as amount,
        'SPIF ' || cast(spif_amount as {{ dbt.type_string() }}) || ' per qualifying deal x credit share' as rule_applied
    from qualifying_spif
    where basis = 'per_deal'
),

spif_fixed as (
    select
        plan_segment_key, employee_id, period_month, plan_version_key, component_id, currency_code,
        min(spif_amount) as spif_amount, count(*) as qualifying_deals
    from qualifying_spif
    where basis = 'fixed'
    group by plan_segment_key, employee_id, period_month, plan_version_key, component_id, currency_code
)

select
    credit_key, deal_id, employee_id, credit_type, credit_pct, credit_date, period_month, plan_segment_key,
    plan_version_key, component_id, line_type, credited_amount, rate, amount, rule_applied, currency_code
from multiplier
union all
select
    credit_key, deal_id, employee_id, credit_type, credit_pct, credit_date, period_month, plan_segment_key,
    plan_version_key, component_id, line_type, credited_amount, rate, amount, rule_applied, currency_code
from spif_per_deal
union all
select
    cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), employee_id,
    cast(null as {{ dbt.type_string() }}), cast(null as decimal(9, 4)), cast(null as date), period_month,
    plan_segment_key, plan_version_key, component_id, 'spif', cast(null as decimal(18, 2)), cast(null as decimal(9, 6)),
    cast(round(spif_amount, 2) as decimal(18, 2)),
    'SPIF ' || cast(spif_amount as {{ dbt.type_string() }}) || ' once for the period ('
        || cast(qualifying_deals as {{ dbt.type_string() }}) || ' qualifying deals)',
    currency_code
from spif_fixed
