{#-
  Sales KPIs, one row per period (month or quarter) x group (rep, team, territory or company).
  Definitions (docs/definitions.md; the choices are documented in the YAML too):
  bookings = reporting-currency amount of deals that reached closed-won, by close date (a deal
  cancelled later still books in its close period; the cancellation shows in cancelled_amount
  in the period it happened); win rate = won / (won + lost) by close date, open deals excluded;
  deals and leads count for the rep version valid on the close / creation date, quota for the
  version valid on the rep's last active day of the month. Archived (deleted) deals are left out.
  No period starts after the as-of date (macros/as_of.sql): open pipeline and quotas of later
  months are not shown; is_complete_period marks the periods still running. Figures are rounded
  to the agreed precision (macros/precision.sql).
-#}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

grains as ({{ kpi_grains() }}),

group_types as ({{ kpi_group_types() }}),

reps as (
    select rep_version_key, employee_id, team_name, territory_code
    from {{ ref('dim_reps') }}
),

deals as (
    select deals.*, reps.team_name, reps.territory_code
    from {{ ref('fct_deals') }} as deals
    left join reps on deals.rep_version_key = reps.rep_version_key
    where not deals.is_archived
),

{%- set closed_figures -%}
        count(case when deals.was_won then 1 end) as won_deals,
        coalesce(sum(case when deals.was_won then deals.amount_reporting end), 0) as bookings_amount,
        count(case when deals.is_lost and not deals.was_won then 1 end) as lost_deals,
        coalesce(sum(case when deals.is_lost and not deals.was_won then deals.amount_reporting end), 0)
            as lost_amount,
        avg(case when deals.was_won then cast(deals.sales_cycle_days as double) end) as sales_cycle_days_mean,
        {{ median('case when deals.was_won then cast(deals.sales_cycle_days as double) end') }}
            as sales_cycle_days_median
{%- endset %}

closed as (
    {#- the figures with a median (these and the leads') are aggregated per grain and group type
        apart (macros/kpi_grain.sql). Crossed with all eight at once, a large company's 2.4 M leads
        put 18.9 M values into one aggregate: the model needed about 1 GB of DuckDB memory (out of
        memory under a 0.9 GB cap, 3.8 s under 1.2 GB against 2.3 s) and once took 32 s in a daily
        build; apart, 2.0-2.2 s, and 2.3 s under a 0.9 GB cap. -#}
    {{ aggregate_per_period_and_group('deals', 'deals.close_date', closed_figures, where='not deals.is_open') }}
),

cancellations as (
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'cast(deals.cancelled_at as date)') }} as period_start_date,
        group_types.group_type,
        {{ group_key('group_types.group_type', 'deals.employee_id', 'deals.team_name', 'deals.territory_code') }}
            as group_key,
        count(*) as cancelled_deals,
        sum(deals.amount_reporting) as cancelled_amount
    from deals
    cross join grains
    cross join group_types
    where deals.is_cancelled
    group by 1, 2, 3, 4
),

open_pipeline as (
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'deals.close_date') }} as period_start_date,
        group_types.group_type,
        {{ group_key('group_types.group_type', 'deals.employee_id', 'deals.team_name', 'deals.territory_code') }}
            as group_key,
        count(*) as open_deals,
        sum(deals.amount_reporting) as open_pipeline_amount,
        sum(deals.weighted_amount_reporting) as weighted_pipeline_amount
    from deals
    cross join grains
    cross join group_types
    where deals.is_open and deals.close_date is not null
    group by 1, 2, 3, 4
),

activity_months as (
    {#- pre-aggregated per rep version and month (every grain is a month or a coarser period), so
        the explosion below stays small: 12.6 M activities are 2.7 M rep-days but 0.2 M rep-months -#}
    select
        activities.rep_version_key,
        cast({{ dbt.date_trunc('month', 'activities.activity_date') }} as date) as activity_month,
        count(case when activities.activity_type = 'call' then 1 end) as calls,
        sum(activities.talk_minutes) as talk_minutes,
        count(case when activities.activity_type = 'email' and activities.direction = 'OUTBOUND' then 1 end)
            as emails_sent,
        count(case when activities.is_held_meeting then 1 end) as meetings_held
    from {{ ref('fct_activities') }} as activities
    group by 1, 2
),

activity as (
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'activity_months.activity_month') }} as period_start_date,
        group_types.group_type,
        {{ group_key('group_types.group_type', 'reps.employee_id', 'reps.team_name', 'reps.territory_code') }}
            as group_key,
        sum(activity_months.calls) as calls,
        sum(activity_months.talk_minutes) as talk_minutes,
        sum(activity_months.emails_sent) as emails_sent,
        sum(activity_months.meetings_held) as meetings_held
    from activity_months
    left join reps on activity_months.rep_version_key = reps.rep_version_key
    cross join grains
    cross join group_types
    group by 1, 2, 3, 4
),

lead_rows as (
    select
        leads.created_date,
        leads.response_minutes,
        leads.is_unanswered,
        reps.employee_id,
        reps.team_name,
        reps.territory_code
    from {{ ref('int_lead_responses_measured') }} as leads
    left join reps on leads.rep_version_key = reps.rep_version_key
),

{%- set lead_figures -%}
        count(*) as leads_created,
        count(case when lead_rows.response_minutes <= 60 then 1 end) as leads_answered_within_1h,
        count(case when lead_rows.response_minutes <= 1440 then 1 end) as leads_answered_within_24h,
        count(case when lead_rows.is_unanswered then 1 end) as leads_unanswered,
        {{ median('lead_rows.response_minutes') }} as lead_response_minutes_median
{%- endset %}

leads as (
    {{ aggregate_per_period_and_group('lead_rows', 'lead_rows.created_date', lead_figures) }}
),

quota_months as (
    select quotas.*, reps.team_name, reps.territory_code
    from {{ ref('fct_quotas') }} as quotas
    left join reps on quotas.rep_version_key = reps.rep_version_key
    where quotas.is_quota_carrying
),

quota as (
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'quota_months.period_start_date') }} as period_start_date,
        group_types.group_type,
        {{ group_key('group_types.group_type', 'quota_months.employee_id', 'quota_months.team_name',
                     'quota_months.territory_code') }} as group_key,
        sum(quota_months.prorated_quota_amount) as quota_amount,
        sum(cast(quota_months.proration_factor as double))
            / case when grains.period_grain = 'month' then 1 else 3 end as quota_carrying_fte
    from quota_months
    cross join grains
    cross join group_types
    group by 1, 2, 3, 4, grains.period_grain
),

rep_periods as (
    {#- each rep's attainment per period, counted in the group of the rep's last quota month -#}
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'quota_months.period_start_date') }} as period_start_date,
        quota_months.employee_id,
        sum(quota_months.prorated_quota_amount) as rep_quota,
        max(quota_months.period_start_date) as last_month
    from quota_months
    cross join grains
    group by 1, 2, 3
),

rep_bookings as (
    select
        grains.period_grain,
        {{ period_start('grains.period_grain', 'deals.close_date') }} as period_start_date,
        deals.employee_id,
        sum(deals.amount_reporting) as rep_bookings
    from deals
    cross join grains
    where deals.was_won and deals.employee_id is not null
    group by 1, 2, 3
),

rep_attainment as (
    select
        rep_periods.period_grain,
        rep_periods.period_start_date,
        rep_periods.employee_id,
        last_quota.team_name,
        last_quota.territory_code,
        rep_periods.rep_quota > 0
            and coalesce(rep_bookings.rep_bookings, 0) >= rep_periods.rep_quota as is_at_quota
    from rep_periods
    inner join quota_months as last_quota
        on rep_periods.employee_id = last_quota.employee_id
        and rep_periods.last_month = last_quota.period_start_date
    left join rep_bookings
        on rep_periods.period_grain = rep_bookings.period_grain
        and rep_periods.period_start_date = rep_bookings.period_start_date
        and rep_periods.employee_id = rep_bookings.employee_id
),

at_quota as (
    select
        rep_attainment.period_grain,
        rep_attainment.period_start_date,
        group_types.group_type,
        {{ group_key('group_types.group_type') }} as group_key,
        count(*) as quota_carrying_reps,
        count(case when rep_attainment.is_at_quota then 1 end) as reps_at_quota
    from rep_attainment
    cross join group_types
    group by 1, 2, 3, 4
),

spine as (
    select period_grain, period_start_date, group_type, group_key from closed
    union select period_grain, period_start_date, group_type, group_key from cancellations
    union select period_grain, period_start_date, group_type, group_key from open_pipeline
    union select period_grain, period_start_date, group_type, group_key from activity
    union select period_grain, period_start_date, group_type, group_key from leads
    union select period_grain, period_start_date, group_type, group_key from quota
),

group_names as (
    select 'rep' as group_type, employee_id as group_key, max(rep_name) as group_name
    from {{ ref('dim_reps') }} where is_current group by employee_id
    union all select 'team', team_key, team_name from {{ ref('dim_teams') }}
    union all select 'territory', territory_key, territory_code from {{ ref('dim_territories') }}
    union all select 'company', 'company', 'Company'
),

joined as (
    select
        spine.*,
        coalesce(closed.won_deals, 0) as won_deals,
        coalesce(closed.bookings_amount, 0) as bookings_amount,
        coalesce(closed.lost_deals, 0) as lost_deals,
        coalesce(closed.lost_amount, 0) as lost_amount,
        closed.sales_cycle_days_mean,
        closed.sales_cycle_days_median,
        coalesce(cancellations.cancelled_deals, 0) as cancelled_deals,
        coalesce(cancellations.cancelled_amount, 0) as cancelled_amount,
        coalesce(open_pipeline.open_deals, 0) as open_deals,
        coalesce(open_pipeline.open_pipeline_amount, 0) as open_pipeline_amount,
        coalesce(open_pipeline.weighted_pipeline_amount, 0) as weighted_pipeline_amount,
        coalesce(activity.calls, 0) as calls,
        coalesce(activity.talk_minutes, 0) as talk_minutes,
        coalesce(activity.emails_sent, 0) as emails_sent,
        coalesce(activity.meetings_held, 0) as meetings_held,
        coalesce(leads.leads_created, 0) as leads_created,
        coalesce(leads.leads_answered_within_1h, 0) as leads_answered_within_1h,
        coalesce(leads.leads_answered_within_24h, 0) as leads_answered_within_24h,
        coalesce(leads.leads_unanswered, 0) as leads_unanswered,
        leads.lead_response_minutes_median,
        quota.quota_amount,
        quota.quota_carrying_fte,
        coalesce(at_quota.quota_carrying_reps, 0) as quota_carrying_reps,
        coalesce(at_quota.reps_at_quota, 0) as reps_at_quota
    from spine
    left join closed using (period_grain, period_start_date, group_type, group_key)
    left join cancellations using (period_grain, period_start_date, group_type, group_key)
    left join open_pipeline using (period_grain, period_start_date, group_type, group_key)
    left join activity using (period_grain, period_start_date, group_type, group_key)
    left join leads using (period_grain, period_start_date, group_type, group_key)
    left join quota using (period_grain, period_start_date, group_type, group_key)
    left join at_quota using (period_grain, period_start_date, group_type, group_key)
),

rates as (
    select
        joined.*,
        case when won_deals + lost_deals > 0 then cast(won_deals as double) / (won_deals + lost_deals) end
            as win_rate,
        case when bookings_amount + lost_amount > 0
            then cast(bookings_amount as double) / cast(bookings_amount + lost_amount as double) end
            as value_win_rate,
        case when won_deals > 0 then cast(bookings_amount / won_deals as decimal(18, 2)) end as average_deal_size
    from joined
)

select
    {{ dbt.concat(['rates.period_grain', "'|'", dbt.cast('rates.period_start_date', dbt.type_string()),
                   "'|'", 'rates.group_type', "'|'", 'rates.group_key']) }} as kpi_key,
    rates.period_grain,
    rates.period_start_date,
    {{ is_complete_period(period_end_date('rates.period_grain', 'rates.period_start_date'), 'as_of.as_of_date') }}
        as is_complete_period,
    rates.group_type,
    rates.group_key,
    coalesce(group_names.group_name, rates.group_key) as group_name,
    '{{ var("reporting_currency") }}' as currency_code,
    rates.won_deals,
    {{ rounded('rates.bookings_amount', 'money') }} as bookings_amount,
    rates.lost_deals,
    {{ rounded('rates.lost_amount', 'money') }} as lost_amount,
    {{ rounded('rates.win_rate', 'fraction') }} as win_rate,
    {{ rounded('rates.value_win_rate', 'fraction') }} as value_win_rate,
    rates.average_deal_size,
    {{ rounded('rates.sales_cycle_days_mean', 'duration') }} as sales_cycle_days_mean,
    {{ rounded('rates.sales_cycle_days_median', 'duration') }} as sales_cycle_days_median,
    rates.cancelled_deals,
    {{ rounded('rates.cancelled_amount', 'money') }} as cancelled_amount,
    rates.open_deals,
    {{ rounded('rates.open_pipeline_amount', 'money') }} as open_pipeline_amount,
    {{ rounded('rates.weighted_pipeline_amount', 'money') }} as weighted_pipeline_amount,
    cast(rates.calls as {{ dbt.type_bigint() }}) as calls,
    {{ rounded('rates.talk_minutes', 'duration') }} as talk_minutes,
    cast(rates.emails_sent as {{ dbt.type_bigint() }}) as emails_sent,
    cast(rates.meetings_held as {{ dbt.type_bigint() }}) as meetings_held,
    rates.leads_created,
    rates.leads_answered_within_1h,
    rates.leads_answered_within_24h,
    rates.leads_unanswered,
    case when rates.leads_created > 0
        then {{ rounded('cast(rates.leads_answered_within_1h as double) / rates.leads_created', 'fraction') }}
    end as lead_answered_1h_share,
    case when rates.leads_created > 0
        then {{ rounded('cast(rates.leads_answered_within_24h as double) / rates.leads_created', 'fraction') }}
    end as lead_answered_24h_share,
    {{ rounded('rates.lead_response_minutes_median', 'duration') }} as lead_response_minutes_median,
    {{ rounded('rates.quota_amount', 'money') }} as quota_amount,
    case when rates.quota_amount > 0
        then {{ rounded('cast(rates.bookings_amount as double) / cast(rates.quota_amount as double)', 'fraction') }}
    end as quota_attainment,
    rates.quota_carrying_reps,
    rates.reps_at_quota,
    case when rates.quota_carrying_reps > 0
        then {{ rounded('cast(rates.reps_at_quota as double) / rates.quota_carrying_reps', 'fraction') }}
    end as reps_at_quota_share,
    {{ rounded('rates.quota_carrying_fte', 'fraction') }} as quota_carrying_fte,
    case when rates.quota_carrying_fte > 0
        then {{ rounded('cast(rates.bookings_amount as double) / rates.quota_carrying_fte', 'money') }}
    end as bookings_per_quota_carrying_fte,
    case when rates.quota_amount - rates.bookings_amount > 0
        then {{ rounded('cast(rates.open_pipeline_amount as double) / cast(rates.quota_amount - rates.bookings_amount as double)',
                        'fraction') }}
    end as pipeline_coverage,
    case when rates.sales_cycle_days_mean > 0 and rates.win_rate is not null
        then {{ rounded('rates.open_deals * cast(rates.average_deal_size as double) * rates.win_rate / rates.sales_cycle_days_mean',
                        'money') }}
    end as sales_velocity_per_day
from rates
cross join as_of
left join group_names
    on rates.group_type = group_names.group_type
    and rates.group_key = group_names.group_key
where rates.period_start_date <= as_of.as_of_date
