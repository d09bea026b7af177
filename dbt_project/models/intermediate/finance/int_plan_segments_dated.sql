-- depends_on: {{ ref('int_plan_rule_violations') }}
-- depends_on: {{ ref('int_finance_suites_checked') }}
{#-
  The commission calendar: one row per rep, month and plan version the rep was on, cut where
  the rep joined, left or changed plan (a mid-month plan change gives two segments in the month).
  Each segment carries its share of the rep's quota: full monthly quota x days in the segment /
  days in the month x the plan's ramp factor, rounded to the cent.
  The horizon: months run up to the run's as-of month (macro as_of_date(): var as_of_date, else
  the latest deal update), or var('commission_through_month') when set, and on to the month of
  the latest deal cancellation when that is later (a clawback posts in the cancellation month,
  and every rep on a plan then has that month too). Every rep on a plan gets a row for every
  month of the horizon, deals or not (the monthly mart's zero rows).
#}
with assignments as (
    select
        assignment_id,
        employee_id,
        plan_id,
        effective_from,
        coalesce(effective_to, cast('9999-12-30' as date)) as effective_to
    from {{ ref('stg_plans__plan_assignments') }}
),

versions as (
    select
        plan_version_key,
        plan_id,
        plan_version,
        effective_from,
        coalesce(effective_to, cast('9999-12-30' as date)) as effective_to,
        currency_code,
        clawback_window_days
    from {{ ref('stg_plans__commission_plans') }}
),

employees as (
    select employee_id, hire_date, coalesce(termination_date, cast('9999-12-30' as date)) as last_day
    from {{ ref('stg_hris__employees') }}
),

horizon as (
    {%- set through = var('commission_through_month', none) %}
    {%- if through and not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', through | string | trim) %}
        {{ exceptions.raise_compiler_error(
            "var commission_through_month must be a month YYYY-MM (or blank for the as-of month), got '"
            ~ through ~ "'") }}
    {%- endif %}
    select
        cast({{ dbt.last_day('greatest(computed_through.month_start, coalesce(cancellations.month_start, computed_through.month_start))', 'month') }}
            as date) as last_period_end
    from (
        select cast({{ dbt.date_trunc('month',
            "cast('" ~ (through | string | trim) ~ "-01' as date)" if through else as_of_date()) }} as date) as month_start
    ) as computed_through
    cross join (
        select cast({{ dbt.date_trunc('month', 'max(cast(cancelled_at as date))') }} as date) as month_start
        from {{ ref('fct_deals') }}
    ) as cancellations
),

months as (
    select distinct
        month_start_date as period_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as period_end_date
    from {{ ref('dim_date') }}
    cross join horizon
    where month_start_date <= horizon.last_period_end
),

segments as (
    select
        assignments.assignment_id,
        assignments.employee_id,
        versions.plan_version_key,
        versions.plan_id,
        versions.plan_version,
        versions.currency_code,
        versions.clawback_window_days,
        months.period_start_date,
        months.period_end_date,
        greatest(months.period_start_date, assignments.effective_from, versions.effective_from, employees.hire_date)
            as segment_start_date,
        least(months.period_end_date, assignments.effective_to, versions.effective_to, employees.last_day)
            as segment_end_date
    from assignments
    inner join versions
        on assignments.plan_id = versions.plan_id
        and versions.effective_from <= assignments.effective_to
        and versions.effective_to >= assignments.effective_from
    inner join employees on assignments.employee_id = employees.employee_id
    inner join months
        on months.period_start_date <= least(assignments.effective_to, versions.effective_to, employees.last_day)
        and months.period_end_date >= greatest(assignments.effective_from, versions.effective_from, employees.hire_date)
),

quotas as (
    select
        quotas.employee_id,
        quotas.period_start_date,
        quotas.quota_amount,
        coalesce(fct.ramp_factor, 1) as ramp_factor
    from {{ ref('stg_plans__quotas') }} as quotas
    left join {{ ref('fct_quotas') }} as fct on quotas.quota_key = fct.quota_key
)

select
    {{ dbt.concat([
        'segments.employee_id', "'|'", dbt.cast('segments.period_start_date', dbt.type_string()), "'|'",
        'segments.plan_version_key', "'|'", dbt.cast('segments.segment_start_date', dbt.type_string())
    ]) }} as plan_segment_key,
    segments.employee_id,
    {{ month_label('segments.period_start_date') }} as period_month,
    segments.period_start_date,
    segments.period_end_date,
    segments.segment_start_date,
    segments.segment_end_date,
    segments.assignment_id,
    segments.plan_version_key,
    segments.plan_id,
    segments.plan_version,
    segments.currency_code,
    segments.clawback_window_days,
    {{ dbt.datediff('segments.segment_start_date', 'segments.segment_end_date', 'day') }} + 1 as segment_days,
    {{ dbt.datediff('segments.period_start_date', 'segments.period_end_date', 'day') }} + 1 as days_in_month,
    quotas.quota_amount as full_quota_amount,
    quotas.ramp_factor,
    cast(round(
        {{ wide_decimal('quotas.quota_amount') }}
        * ({{ dbt.datediff('segments.segment_start_date', 'segments.segment_end_date', 'day') }} + 1)
        / ({{ dbt.datediff('segments.period_start_date', 'segments.period_end_date', 'day') }} + 1)
        * quotas.ramp_factor,
        2
    ) as decimal(18, 2)) as segment_quota_amount
from segments
left join quotas
    on segments.employee_id = quotas.employee_id
    and segments.period_start_date = quotas.period_start_date
where segments.segment_start_date <= segments.segment_end_date
