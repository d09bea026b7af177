{#-
  Every deal for the forecast's new-deal model and for the bookings already won in a period before
  the forecast date: creation date and the owner's team then, close date and outcome, amount, and
  the owner's rep, team and territory at the close (the groups mart_sales_kpis counts bookings in).
-#}
with reps as (
    select rep_version_key, owner_id, team_name, territory_code, valid_from, valid_to from {{ ref('dim_reps') }}
)

select
    deals.deal_id,
    deals.created_date,
    creation_reps.team_name as creation_team_name,
    case when not deals.is_open then deals.close_date end as close_date,
    deals.was_won,
    cast(deals.amount_reporting as double) as amount_reporting,
    deals.employee_id,
    closing_reps.team_name,
    closing_reps.territory_code
from {{ ref('fct_deals') }} as deals
left join reps as creation_reps
    on deals.owner_id = creation_reps.owner_id
    and deals.created_date >= creation_reps.valid_from
    and deals.created_date < creation_reps.valid_to
left join reps as closing_reps on deals.rep_version_key = closing_reps.rep_version_key
where not deals.is_archived
