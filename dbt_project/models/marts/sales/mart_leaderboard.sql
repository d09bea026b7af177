{#-
  Monthly leaderboard, one row per rep and month: bookings, attainment and activity with the
  rep's rank within the team (the team of the rep's last quota month, else of the deals) and
  within the company. Ties share a rank (rank(), not row_number()). Reps without quota are
  ranked by bookings only (attainment rank null). The months of mart_sales_kpis: none after the
  as-of date; the running month (is_complete_period false) ranks the figures to date.
-#}
with reps as (
    select
        kpis.period_start_date,
        kpis.is_complete_period,
        kpis.group_key as employee_id,
        kpis.group_name as rep_name,
        kpis.bookings_amount,
        kpis.won_deals,
        kpis.quota_amount,
        kpis.quota_attainment,
        kpis.calls + kpis.emails_sent + kpis.meetings_held as activities,
        kpis.calls,
        kpis.talk_minutes,
        kpis.meetings_held
    from {{ ref('mart_sales_kpis') }} as kpis
    where kpis.period_grain = 'month' and kpis.group_type = 'rep' and kpis.group_key != 'unassigned'
),

team_of_month as (
    select
        quotas.employee_id,
        quotas.period_start_date,
        dim_reps.team_name
    from {{ ref('fct_quotas') }} as quotas
    inner join {{ ref('dim_reps') }} as dim_reps on quotas.rep_version_key = dim_reps.rep_version_key
),

placed as (
    select
        reps.*,
        coalesce(team_of_month.team_name, current_team.team_name) as team_name
    from reps
    left join team_of_month
        on reps.employee_id = team_of_month.employee_id
        and reps.period_start_date = team_of_month.period_start_date
    left join (select employee_id, team_name from {{ ref('dim_reps') }} where is_current) as current_team
        on reps.employee_id = current_team.employee_id
)

select
    {{ dbt.concat([dbt.cast('period_start_date', dbt.type_string()), "'|'", 'employee_id']) }} as leaderboard_key,
    period_start_date,
    is_complete_period,
    employee_id,
    rep_name,
    team_name,
    '{{ var("reporting_currency") }}' as currency_code,
    bookings_amount,
    won_deals,
    quota_amount,
    quota_attainment,
    activities,
    calls,
    talk_minutes,
    meetings_held,
    case when quota_attainment is not null then
        rank() over (partition by period_start_date, team_name order by quota_attainment desc nulls last) end
        as attainment_rank_in_team,
    case when quota_attainment is not null then
        rank() over (partition by period_start_date order by quota_attainment desc nulls last) end
        as attainment_rank_in_company,
    rank() over (partition by period_start_date, team_name order by bookings_amount desc) as bookings_rank_in_team,
    rank() over (partition by period_start_date order by bookings_amount desc) as bookings_rank_in_company,
    rank() over (partition by period_start_date, team_name order by activities desc) as activity_rank_in_team,
    rank() over (partition by period_start_date order by activities desc) as activity_rank_in_company
from placed
