{#- respondent_employee_id is personal data: it stays in staging (not published to BI) and is
    used only to attach the respondent's team at response time; marts carry respondent_key, the
    pseudonym the load computed with a key the warehouse does not hold (never hashed here: a key
    in SQL text would be written into the compiled SQL, dbt's artefacts and the view's text). -#}
with source as (
    select * from {{ source('surveys', 'responses') }}
),

ranked as (
    select
        cast(response_id as {{ dbt.type_string() }}) as response_id,
        cast(survey_id as {{ dbt.type_string() }}) as survey_id,
        cast(respondent_employee_id as {{ dbt.type_string() }}) as respondent_employee_id,
        cast(respondent_key as {{ dbt.type_string() }}) as respondent_key,
        {{ utc_timestamp('submitted_at') }} as submitted_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        _source_file,
        _dlt_load_id,
        {{ latest_first('response_id', 'updated_at desc, _dlt_load_id desc') }} as version_rank
    from source
)

select
    response_id, survey_id, respondent_employee_id, respondent_key, submitted_at, updated_at, _source_file,
    _dlt_load_id
from ranked
where version_rank = 1
