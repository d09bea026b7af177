{#-
  What the forecast learns from: every snapshot row of fct_pipeline_snapshots (a deal open at a
  month start, its stage, age, amount and expected close date then) whose deal has since closed,
  with the outcome (won or not, close date, amount at the close). The simulation keeps, for a
  forecast date, only the rows of snapshots before it of deals closed before it.
-#}
select
    snapshots.snapshot_date,
    snapshots.deal_id,
    snapshots.pipeline_id,
    snapshots.pipeline_stage_key,
    {{ dbt.datediff('deals.created_date', 'snapshots.snapshot_date', 'day') }} as deal_age_days,
    snapshots.expected_close_date,
    cast(snapshots.amount_reporting as double) as amount_at_snapshot,
    deals.close_date,
    deals.was_won,
    cast(deals.amount_reporting as double) as final_amount,
    snapshots.is_reconstructed
from {{ ref('fct_pipeline_snapshots') }} as snapshots
inner join {{ ref('fct_deals') }} as deals on snapshots.deal_id = deals.deal_id
where not deals.is_open and deals.close_date is not null
