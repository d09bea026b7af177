{#- The file each plan entity was last replaced from; `is_required`: a snapshot finance cannot pay without. -#}
select
    entity,
    entity in ('quotas', 'plan_assignments', 'commission_plans') as is_required,
    _source_file,
    _dlt_load_id
from {{ source('plans', 'snapshot_files') }}
