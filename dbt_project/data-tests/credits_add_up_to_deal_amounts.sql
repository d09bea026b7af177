{#- Each credit type of a won deal adds up to the deal amount, within a cent per split row (rounding). -#}
select deal_id, credit_type, sum(credit_pct) as total_pct
from {{ ref('fct_credits') }}
where employee_id is not null
group by deal_id, credit_type
having sum(credit_pct) <> 100
