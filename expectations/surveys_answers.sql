-- Answers with their response and question. The respondent is hashed here too: unexpected
-- examples end up in check metadata, which must not carry an employee id.
select
    a.answer_id,
    a.survey_id,
    md5(coalesce(rr.respondent_employee_id, '')) as respondent_hash,
    a.question_id,
    a.score,
    q.question_id is not null as question_known,
    a._source_file,
    a._source_line
from raw_surveys.answers as a
left join raw_surveys.responses as rr on rr.response_id = a.response_id
left join raw_surveys.survey_questions as q on q.survey_id = a.survey_id and q.question_id = a.question_id
where {scope}
