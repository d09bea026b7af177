{#-
  One row per quota-carrying rep and month. quota_amount is finance's full monthly quota;
  prorated_quota_amount = quota_amount x (days employed and on a plan in the month / days in the
  month) x ramp factor, rounded to the cent (half away from zero). The ramp factor comes from
  the rep's plan (ramp_schedule: share of full quota in the hire month, the month after, ...;
  1 once the schedule is over). Example: 1,000 for a 28-day February, employed through the 27th ->
  1000 x 27/28 = 964.29. The rep version is the one valid on the rep's last active day of the month.
  A quota that is not a number (e.g. "50,000") or has no YYYY-MM month cannot be prorated: it
  breaks the plan rule quota_invalid (int_plan_rule_violations), which holds the commission models
  back and which the run summary prints with its file and line, and it is left out here.
-#}
with quotas as (
    select * from {{ ref('stg_plans__quotas') }}
    where quota_amount is not null and period_start_date is not null
),

employees as (
    select employee_id, hire_date, termination_date from {{ ref('stg_hris__employees') }}
),

assignments as (
    select
        employee_id,
        plan_id,
        effective_from,
        coalesce(effective_to, cast('9999-12-30' as date)) as effective_to
    from {{ ref('stg_plans__plan_assignments') }}
),

plans as (
    select plan_id, effective_from, effective_to, definition_json
    from {{ ref('stg_plans__commission_plans') }}
),

months as (
    select
        quotas.quota_key,
        quotas.employee_id,
        quotas.period_month,
        quotas.period_start_date,
        cast({{ dbt.last_day('quotas.period_start_date', 'month') }} as date) as period_end_date,
        quotas.quota_amount,
        quotas.currency_code,
        employees.hire_date,
        employees.termination_date
    from quotas
    left join employees on quotas.employee_id = employees.employee_id
),

active_days as (
    {#- days in the month that are inside employment and inside some plan assignment -#}
    select
        months.quota_key,
        sum(
            greatest(
                0,
                {{ dbt.datediff(
                    'greatest(months.period_start_date, coalesce(months.hire_date, months.period_start_date), assignments.effective_from)',
                    'least(months.period_end_date, coalesce(months.termination_date, months.period_end_date), assignments.effective_to)',
                    'day') }} + 1
            )
        ) as active_days_raw,
        max(least(months.period_end_date, coalesce(months.termination_date, months.period_end_date),
                  assignments.effective_to)) as last_active_day,
        min(assignments.plan_id) as plan_id
    from months
    inner join assignments
        on months.employee_id = assignments.employee_id
        and assignments.effective_from <= months.period_end_date
        and assignments.effective_to >= months.period_start_date
    group by months.quota_key
),

with_ramp as (
    select
        months.*,
        cast(coalesce(active_days.active_days_raw, 0) as integer) as active_days,
        active_days.last_active_day,
        active_days.plan_id,
        {{ dbt.datediff('months.period_start_date', 'months.period_end_date', 'day') }} + 1 as days_in_month,
        {{ dbt.datediff(dbt.date_trunc('month', 'months.hire_date'), 'months.period_start_date', 'month') }}
            as months_since_hire,
        plans.definition_json
    from months
    left join active_days on months.quota_key = active_days.quota_key
    left join plans
        on active_days.plan_id = plans.plan_id
        and months.period_start_date between plans.effective_from and coalesce(plans.effective_to, cast('9999-12-31' as date))
),

factors as (
    select
        *,
        cast(active_days as decimal(18, 6)) / days_in_month as proration_factor,
        coalesce(
            case
                when months_since_hire >= 0
                    and months_since_hire < json_array_length(json_extract(definition_json, '$.ramp_schedule'))
                    then cast(json_extract_string(
                        definition_json, '$.ramp_schedule[' || cast(months_since_hire as varchar) || ']'
                    ) as decimal(9, 4))
            end,
            1
        ) as ramp_factor
    from with_ramp
)

select
    factors.quota_key,
    factors.employee_id,
    reps.rep_version_key,
    factors.period_month,
    factors.period_start_date,
    factors.period_end_date,
    factors.plan_id,
    factors.quota_amount,
    factors.currency_code,
    factors.days_in_month,
    factors.active_days,
    cast(factors.proration_factor as decimal(9, 6)) as proration_factor,
    cast(factors.ramp_factor as decimal(9, 4)) as ramp_factor,
    cast(round({{ wide_decimal('factors.quota_amount') }} * factors.active_days / factors.days_in_month * factors.ramp_factor, 2) as decimal(18, 2))
        as prorated_quota_amount,
    factors.active_days > 0 as is_quota_carrying
from factors
left join {{ ref('dim_reps') }} as reps
    on factors.employee_id = reps.employee_id
    and factors.last_active_day >= reps.valid_from
    and factors.last_active_day < reps.valid_to
