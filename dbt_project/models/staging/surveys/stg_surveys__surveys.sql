select
    cast(survey_id as {{ dbt.type_string() }}) as survey_id,
    name as survey_name,
    {{ utc_timestamp('sent_at') }} as sent_at,
    cast({{ utc_timestamp('sent_at') }} as date) as sent_date,
    {{ utc_timestamp('closes_at') }} as closes_at,
    audience,
    cast(audience_size as bigint) as audience_size,
    _source_file,
    _dlt_load_id
from {{ source('surveys', 'surveys') }}
