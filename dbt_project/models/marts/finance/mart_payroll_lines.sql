{#-
  The payroll file's lines (`spm export-payouts`): one row per rep, month, currency and kind of
  pay (commission, SPIF, draw, adjustment (to closed periods and manual), recovery), with payroll's earning code, the pay group
  and the pay date, all mapped in var('payroll') (dbt_project.yml; docs/commission_plans.md).
  Amounts are never negative: each kind is the sum of the rep's month in mart_commissions_monthly
  (commission = rate-table commission + multipliers; recovery = clawbacks + draw recovered + carried
  negative balance recovered, less the shortfall carried forward: a clawback larger than the month's
  earnings is deducted only up to them, the rest is carried and deducted from later months); a
  kind whose sum is negative (a negative adjustment, say) moves into the recovery line, a
  deduction code, and a positive recovery (a clawback reversed) into the adjustment line, so that
  earnings - deductions = net_payout_amount for every rep and month. The pay date is pay_day of
  the month pay_months_after the period ('last' = its last day), moved back to the working day
  (Monday to Friday, dim_date) on or before it. Every period is here; the export takes closed ones.
-#}
{%- set payroll = var('payroll') -%}
{%- set codes = payroll['earning_codes'] -%}
{%- set pay_day = payroll.get('pay_day', 'last') | string -%}
{%- if pay_day != 'last' and (not pay_day.isdigit() or pay_day | int < 1 or pay_day | int > 28) -%}
    {{ exceptions.raise_compiler_error("var('payroll').pay_day must be a day 1 to 28 or 'last', not " ~ pay_day) }}
{%- endif -%}
{%- set kinds = ['commission', 'spif', 'draw', 'adjustment', 'recovery'] -%}
{%- for kind in kinds if not codes.get(kind) -%}
    {{ exceptions.raise_compiler_error("var('payroll').earning_codes has no code for " ~ kind) }}
{%- endfor -%}
with monthly as (
    select
        employee_id, rep_name, period_month, period_start_date, plan_id, currency_code, period_status, closed_version,
        net_payout_amount,
        commission_amount as commission_signed,
        spif_amount as spif_signed,
        draw_paid_amount as draw_signed,
        adjustment_amount + manual_adjustment_amount as adjustment_signed,
        clawback_amount - draw_recovered_amount + balance_carried_amount - balance_recovered_amount
            as recovery_signed
    from {{ ref('mart_commissions_monthly') }}
),

kinds as (
    {%- for kind in kinds %}
    select
        {{ dbt.string_literal(kind) }} as earning_kind,
        {{ dbt.string_literal(codes[kind]) }} as earning_code,
        {{ 'true' if kind == 'recovery' else 'false' }} as is_deduction,
        {{ loop.index }} as kind_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

amounts as (
    select
        monthly.employee_id, monthly.rep_name, monthly.period_month, monthly.plan_id, monthly.currency_code,
        monthly.period_status, monthly.closed_version, monthly.net_payout_amount,
        kinds.earning_kind,
        kinds.earning_code,
        kinds.is_deduction,
        kinds.kind_order,
        case kinds.earning_kind
            when 'commission' then greatest(commission_signed, 0)
            when 'spif' then greatest(spif_signed, 0)
            when 'draw' then greatest(draw_signed, 0)
            when 'adjustment' then greatest(adjustment_signed, 0) + greatest(recovery_signed, 0)
            else greatest(-recovery_signed, 0) + greatest(-commission_signed, 0) + greatest(-spif_signed, 0)
                + greatest(-draw_signed, 0) + greatest(-adjustment_signed, 0)
        end as amount
    from monthly
    cross join kinds
),

pay_targets as (
    select distinct
        period_month,
        {%- if pay_day == 'last' %}
        cast({{ dbt.last_day(dbt.dateadd('month', payroll.get('pay_months_after', 1) | int, 'period_start_date'), 'month') }} as date)
        {%- else %}
        cast({{ dbt.dateadd('day', pay_day | int - 1, dbt.dateadd('month', payroll.get('pay_months_after', 1) | int, 'period_start_date')) }} as date)
        {%- endif %} as target_date
    from monthly
),

pay_dates as (
    select pay_targets.period_month, max(days.date_day) as pay_date
    from pay_targets
    inner join {{ ref('dim_date') }} as days
        on days.date_day <= pay_targets.target_date
        and days.date_day > cast({{ dbt.dateadd('day', -7, 'pay_targets.target_date') }} as date)
        and days.is_working_day
    group by pay_targets.period_month
)

select
    {{ dbt.concat(['amounts.employee_id', "'|'", 'amounts.period_month', "'|'", 'amounts.currency_code', "'|'",
        'amounts.earning_kind']) }} as payroll_line_key,
    amounts.employee_id,
    amounts.rep_name as employee_name,
    {%- set by_plan = payroll.get('pay_groups_by_plan') or {} %}
    {%- if by_plan %}
    case amounts.plan_id
        {%- for plan_id, group in by_plan.items() %}
        when {{ dbt.string_literal(plan_id) }} then {{ dbt.string_literal(group) }}
        {%- endfor %}
        else {{ dbt.string_literal(payroll['pay_group']) }}
    end as pay_group,
    {%- else %}
    {{ dbt.string_literal(payroll['pay_group']) }} as pay_group,
    {%- endif %}
    cast(pay_dates.pay_date as date) as pay_date,
    amounts.earning_kind,
    amounts.earning_code,
    amounts.is_deduction,
    cast(amounts.kind_order as integer) as kind_order,
    cast(amounts.amount as decimal(18, 2)) as amount,
    amounts.currency_code,
    amounts.period_month,
    amounts.period_status,
    cast(amounts.closed_version as integer) as ledger_version,
    cast(amounts.net_payout_amount as decimal(18, 2)) as net_payout_amount
from amounts
left join pay_dates on amounts.period_month = pay_dates.period_month
