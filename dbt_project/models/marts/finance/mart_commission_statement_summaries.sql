{#-
  The head of a commission statement: one row per rep, month and currency, with what a rep reads
  before the lines. The plan(s) and versions of the month, the period's status and closed version,
  credited bookings, quota and attainment (from mart_commissions_monthly), the month's earnings
  by kind of component (rate-table commission on own deals, overlay commission, multipliers,
  SPIFs), clawbacks, adjustments, draws paid and recovered, negative balances carried and recovered
  (with the balance owed before and after the month, and a leaver's balance written off or
  reported for collection: int_payout_balances_carried), the net payout, and the fiscal year to
  date (credited bookings and net payout of the rep's months of the fiscal year up to this one,
  fiscal years as dim_date counts them). Every amount is a sum of fct_payouts lines; the kinds add
  up to net_payout_amount, which equals the monthly mart's (data test commissions_tie_across_marts).
  A closed month shows what was closed (the monthly mart's frozen head, the ledger's lines, the
  plans it was closed with).
-#}
with monthly as (
    select
        employee_id, rep_name, period_month, period_start_date, currency_code, credited_bookings_amount,
        overlay_credit_amount, quota_amount, attainment, net_payout_amount, line_count, period_status, closed_version
    from {{ ref('mart_commissions_monthly') }}
),

lines as (
    {%- set kinds = {
        'commission_amount': "line_type = 'commission' and coalesce(credit_type, 'revenue') <> 'overlay'",
        'overlay_commission_amount': "line_type = 'commission' and credit_type = 'overlay'",
        'multiplier_amount': "line_type = 'multiplier'",
        'spif_amount': "line_type = 'spif'",
        'clawback_amount': "line_type = 'clawback'",
        'adjustment_amount': "line_type = 'adjustment'",
        'manual_adjustment_amount': "line_type = 'manual_adjustment'",
        'draw_paid_amount': "line_type = 'draw'",
    } %}
    select
        employee_id,
        period_month,
        currency_code,
        {%- for column, condition in kinds.items() %}
        cast(sum(case when {{ condition }} then amount else 0 end) as decimal(18, 2)) as {{ column }},
        {%- endfor %}
        cast(-sum(case when line_type = 'draw_recovery' then amount else 0 end) as decimal(18, 2))
            as draw_recovered_amount,
        cast(sum(case when line_type = 'balance_carried_forward' then amount else 0 end) as decimal(18, 2))
            as balance_carried_amount,
        cast(-sum(case when line_type = 'balance_recovery' then amount else 0 end) as decimal(18, 2))
            as balance_recovered_amount
    from {{ ref('fct_payouts') }}
    group by employee_id, period_month, currency_code
),

plan_versions as (
    select distinct segments.employee_id, segments.period_month, segments.currency_code, plans.plan_id,
        plans.plan_version, plans.plan_name
    from {{ ref('int_plan_segments_dated') }} as segments
    inner join {{ ref('stg_plans__commission_plans') }} as plans
        on segments.plan_version_key = plans.plan_version_key
),

plans as (
    select
        employee_id,
        period_month,
        currency_code,
        {{ dbt.listagg(
            "plan_name || ' (' || plan_id || ' v' || cast(plan_version as " ~ dbt.type_string() ~ ") || ')'",
            "'; '",
            "order by plan_id, plan_version"
        ) }} as plan_label
    from plan_versions
    group by employee_id, period_month, currency_code
),

periods as (
    select period_month, period_status, closed_version, closed_at from {{ ref('int_payout_periods_classified') }}
),

frozen_plans as (
    -- a closed month names the plans it was closed with (ledger.period_summaries)
    select summaries.employee_id, summaries.period_month, summaries.currency_code, summaries.plan_label
    from {{ source('ledger', 'period_summaries') }} as summaries
    inner join periods
        on summaries.period_month = periods.period_month
        and summaries.ledger_version = periods.closed_version
    where periods.period_status = 'closed'
),

balances as (
    select employee_id, period_month, currency_code, opening_balance_amount, closing_balance_amount, settled_amount,
        settlement
    from {{ ref('int_payout_balances_carried') }}
),

fiscal as (
    select date_day, fiscal_year from {{ ref('dim_date') }}
),

summed as (
    select
        monthly.employee_id, monthly.rep_name, monthly.period_month, monthly.period_start_date,
        monthly.currency_code, monthly.credited_bookings_amount, monthly.overlay_credit_amount, monthly.quota_amount,
        monthly.attainment, monthly.net_payout_amount, monthly.line_count, monthly.period_status,
        monthly.closed_version, fiscal.fiscal_year,
        case when frozen_plans.employee_id is null then plans.plan_label else frozen_plans.plan_label end
            as plan_label,
        periods.closed_at,
        coalesce(balances.opening_balance_amount, 0) as opening_balance_amount,
        coalesce(balances.closing_balance_amount, 0) as closing_balance_amount,
        coalesce(balances.settled_amount, 0) as balance_settled_amount,
        balances.settlement as balance_settlement,
        {%- for column in kinds.keys() | list + ['draw_recovered_amount', 'balance_carried_amount', 'balance_recovered_amount'] %}
        coalesce(lines.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from monthly
    left join lines using (employee_id, period_month, currency_code)
    left join plans using (employee_id, period_month, currency_code)
    left join frozen_plans using (employee_id, period_month, currency_code)
    left join balances using (employee_id, period_month, currency_code)
    left join periods using (period_month)
    left join fiscal on monthly.period_start_date = fiscal.date_day
)

select
    {{ dbt.concat(['employee_id', "'|'", 'period_month', "'|'", 'currency_code']) }} as statement_key,
    employee_id,
    rep_name,
    period_month,
    cast(period_start_date as date) as period_start_date,
    currency_code,
    plan_label,
    period_status,
    cast(closed_version as integer) as closed_version,
    cast(closed_at as timestamp) as closed_at,
    credited_bookings_amount,
    overlay_credit_amount,
    quota_amount,
    attainment,
    {%- for column in kinds.keys() | list + ['draw_recovered_amount', 'balance_carried_amount', 'balance_recovered_amount'] %}
    cast({{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    net_payout_amount,
    cast(opening_balance_amount as decimal(18, 2)) as opening_balance_amount,
    cast(closing_balance_amount as decimal(18, 2)) as closing_balance_amount,
    cast(balance_settled_amount as decimal(18, 2)) as balance_settled_amount,
    balance_settlement,
    cast(line_count as bigint) as line_count,
    cast(fiscal_year as integer) as fiscal_year,
    {%- for column in ['credited_bookings_amount', 'net_payout_amount'] %}
    cast(sum({{ column }}) over (
        partition by employee_id, currency_code, fiscal_year order by period_month
        rows between unbounded preceding and current row
    ) as decimal(18, 2)) as ytd_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from summed
