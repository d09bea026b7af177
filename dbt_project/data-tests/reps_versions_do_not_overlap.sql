-- A rep's versions never overlap in time: each day maps to at most one version (facts would fan out).
select a.employee_id, a.rep_version_key, b.rep_version_key as overlapping_version_key
from {{ ref('dim_reps') }} as a
inner join {{ ref('dim_reps') }} as b
    on a.employee_id = b.employee_id
    and a.rep_version_key < b.rep_version_key
    and a.valid_from < b.valid_to
    and b.valid_from < a.valid_to
