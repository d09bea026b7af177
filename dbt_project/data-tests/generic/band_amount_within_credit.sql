{#-
  The amount in a band is part of the line's credit: only rate-table (commission) lines carry one,
  it lies between 0 and the credited amount (in absolute value), and the bands of one credit
  (rep, period, component, credit type, deal) add up to no more than the credit. A failing row
  names the line or credit and why.
-#}
{% test band_amount_within_credit(model, column_name) %}
select payout_line_key as failing, 'band amount on a line that is not a rate-table commission' as failure
from {{ model }}
where {{ column_name }} is not null and line_type <> 'commission'
union all
select payout_line_key, 'band amount outside 0 .. credited amount'
from {{ model }}
where {{ column_name }} is not null
    and ({{ column_name }} < 0 or abs({{ column_name }}) > abs(coalesce(credited_amount, 0)))
union all
select
    {{ dbt.concat(['employee_id', "'|'", 'period_month', "'|'", "coalesce(component_id, '-')", "'|'",
        "coalesce(credit_type, '-')", "'|'", "coalesce(deal_id, '-')"]) }},
    'the bands of one credit add up to more than the credit'
from {{ model }}
where {{ column_name }} is not null
group by employee_id, period_month, component_id, credit_type, deal_id
having sum({{ column_name }}) > max(abs(credited_amount))
{% endtest %}
