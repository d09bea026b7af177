-- Plan assignments with their effective dates (replaced whole on every load).
select
    r.assignment_id,
    r.employee_id,
    r.plan_id,
    r.effective_from as effective_from_text,
    try_cast(nullif(trim(r.effective_from), '') as date) as effective_from,
    try_cast(nullif(trim(r.effective_to), '') as date) as effective_to,
    r._source_file,
    r._source_line
from raw_plans.plan_assignments as r
where {scope}
