{#-
  A key column: never null and never repeated. One test, and one scan, instead of dbt's `unique`
  and `not_null` on the same column: each dbt test is a node with its own compile, query and
  result (about 50 ms of a run beside the query itself), and a daily build ran 39 such pairs.
  A failing row names the key value (null for missing keys), how many rows carry it and why it
  fails. Row-level like `unique`: a build scopes it to the rows it wrote (macros/test_scope.sql).
-#}
{% test primary_key(model, column_name) %}
select
    {{ column_name }} as key_value,
    count(*) as rows_with_key,
    case when {{ column_name }} is null then 'null key' else 'repeated key' end as failure
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}
