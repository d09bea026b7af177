{#-
  Engagement beside performance and attrition, one row per team and survey wave: the team's
  eNPS (null where mart_engagement suppresses it), its quota attainment in the wave's month
  (mart_sales_kpis) and the attrition that followed: members at the wave who left within the
  next 91 days / headcount at the wave (HRIS). The waves of mart_engagement (none sent after the
  as-of date); a recent wave's attrition is only what has happened by then.
-#}
with engagement as (
    select survey_id, sent_date, is_complete_period, group_key as team_name, invited as headcount, is_suppressed, enps,
        participation_rate
    from {{ ref('mart_engagement') }}
    where group_type = 'team' and group_key != 'no team'
),

members as (
    select waves.survey_id, versions.team_name, versions.employee_id, versions.termination_date, waves.sent_date
    from {{ ref('stg_surveys__surveys') }} as waves
    inner join {{ ref('int_rep_versions_built') }} as versions
        on waves.sent_date >= versions.valid_from and waves.sent_date < versions.valid_to
    where versions.team_name is not null
),

leavers as (
    select
        survey_id,
        team_name,
        count(
            case when termination_date > sent_date and termination_date <= {{ dbt.dateadd('day', 91, 'sent_date') }}
                then 1 end
        ) as leavers_next_quarter
    from members
    group by 1, 2
),

performance as (
    select period_start_date, group_key as team_name, quota_attainment, bookings_amount
    from {{ ref('mart_sales_kpis') }}
    where period_grain = 'month' and group_type = 'team'
)

select
    {{ dbt.concat(['engagement.survey_id', "'|'", 'engagement.team_name']) }} as engagement_performance_key,
    engagement.survey_id,
    engagement.sent_date,
    engagement.is_complete_period,
    engagement.team_name,
    engagement.headcount,
    engagement.is_suppressed,
    engagement.enps,
    engagement.participation_rate,
    performance.quota_attainment,
    performance.bookings_amount,
    coalesce(leavers.leavers_next_quarter, 0) as leavers_next_quarter,
    case when engagement.headcount > 0
        then {{ rounded('cast(coalesce(leavers.leavers_next_quarter, 0) as double) / engagement.headcount', 'fraction') }}
    end as attrition_next_quarter
from engagement
left join leavers
    on engagement.survey_id = leavers.survey_id
    and engagement.team_name = leavers.team_name
left join performance
    on engagement.team_name = performance.team_name
    and cast({{ dbt.date_trunc('month', 'engagement.sent_date') }} as date) = performance.period_start_date
