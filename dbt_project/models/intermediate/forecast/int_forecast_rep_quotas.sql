{#-
  Quota-carrying rep months for the forecast's probability of reaching quota: the prorated quota
  as mart_sales_kpis sums it, with the rep's team and territory of that month.
-#}
select
    quotas.employee_id,
    quotas.period_start_date,
    cast(quotas.prorated_quota_amount as double) as quota_amount,
    reps.team_name,
    reps.territory_code
from {{ ref('fct_quotas') }} as quotas
left join {{ ref('dim_reps') }} as reps on quotas.rep_version_key = reps.rep_version_key
where quotas.is_quota_carrying
