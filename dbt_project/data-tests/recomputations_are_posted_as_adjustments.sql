{{ config(meta={'dagster': {'ref': {'name': 'mart_commission_recomputations'}}}) }}
{#-
  Closed means frozen: whatever today's data computes for a closed month differs from what was
  closed only by the adjustments posted for it in later periods. A row here is a closed month
  whose recomputed earnings are not explained by its adjustments.
-#}
select employee_id, period_month, currency_code, closed_earnings_amount, recomputed_earnings_amount,
    adjustment_amount
from {{ ref('mart_commission_recomputations') }}
where earnings_difference_amount <> adjustment_amount
