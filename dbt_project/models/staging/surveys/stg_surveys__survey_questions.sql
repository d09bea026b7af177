select
    {{ dbt.concat(['survey_id', "'|'", 'question_id']) }} as survey_question_key,
    cast(survey_id as {{ dbt.type_string() }}) as survey_id,
    question_id,
    question_text,
    question_type,
    question_id = 'enps' as is_enps_question,
    _source_file,
    _dlt_load_id
from {{ source('surveys', 'survey_questions') }}
