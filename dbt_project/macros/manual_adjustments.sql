{#-
  The payout line key of an approved manual adjustment: employee | pay period | manual_adjustment |
  adjustment id. int_manual_adjustments_posted writes it; int_plan_rule_violations looks for it in
  the ledger to tell an adjustment frozen by its period's close from one that arrived too late.
-#}
{% macro manual_adjustment_line_key(employee, pay_period, adjustment_id) -%}
    {{ dbt.concat([employee, "'|'", pay_period, "'|manual_adjustment|'", adjustment_id]) }}
{%- endmacro %}
