{#- Each credit type of a won deal credits exactly 100 % of it across the linked employees (splits are checked before this). -#}
select deal_id, credit_type, sum(credit_pct) as total_pct
from {{ ref('fct_credits') }}
where employee_id is not null
group by deal_id, credit_type
having sum(credit_pct) <> 100
