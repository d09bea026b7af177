{#- Records that passed every check of base_surveys__answers; the others are in rejects_surveys__answers. -#}
select
    answer_id, response_id, survey_id, question_id, question_text, score, answer_text, updated_at,
    _source_file, _dlt_load_id
from {{ ref('base_surveys__answers') }}
where _reject_reason is null
