{#-
  Blocking: an invalid plan input (overlapping or gapped tiers, splits not adding to 100, an
  assignment to an unknown rep, overlapping assignments, ...) stops every commission model.
  Each failing row's message names the file, line, plan and rule.
-#}
select rule, plan_id, record_key, message
from {{ ref('int_plan_rule_violations') }}
