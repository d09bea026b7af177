select
    cast(id as {{ dbt.type_string() }}) as pipeline_id,
    label as pipeline_label,
    {{ parse_integer('display_order') }} as display_order,
    coalesce(archived, false) as is_archived,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    _source_file,
    _dlt_load_id
from {{ source('crm', 'pipelines') }}
