{#- Every record in its latest version, typed, with the first check it fails (null: clean). -#}
with source as (
    select * from {{ source('surveys', 'answers') }}
),

ranked as (
    select
        cast(answer_id as {{ dbt.type_string() }}) as answer_id,
        cast(response_id as {{ dbt.type_string() }}) as response_id,
        cast(survey_id as {{ dbt.type_string() }}) as survey_id,
        question_id,
        question_text,
        cast(score as integer) as score,
        nullif(trim(text), '') as answer_text,
        {{ utc_timestamp('updated_at') }} as updated_at,
        {{ reject_columns([
            {'when': 'score is not null and (score < 0 or score > 10)', 'reason': 'score outside 0-10', 'field': 'score'},
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id,
        {{ latest_first('answer_id', 'updated_at desc, _dlt_load_id desc') }} as version_rank
    from source
)

select
    answer_id, response_id, survey_id, question_id, question_text, score, answer_text, updated_at,
    _source_file, _dlt_load_id,
    _source_line, _reject_reason, _reject_field, _reject_value
from ranked
where version_rank = 1
