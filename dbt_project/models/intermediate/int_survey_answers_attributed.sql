{{ config(materialized="table") }}
{#-
  One row per survey answer with the respondent's team, territory and region at the survey wave:
  what the engagement marts group by before they suppress small groups. Not a BI table (the
  intermediate schema is not published): answer by answer, a team of three would be readable.
  No employee id, name, e-mail or comment text.
-#}
with answers as (
    select * from {{ ref('stg_surveys__answers') }}
),

responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

surveys as (
    select survey_id, sent_date from {{ ref('stg_surveys__surveys') }}
),

versions as (
    select employee_id, team_name, territory_code, region, valid_from, valid_to
    from {{ ref('int_rep_versions_built') }}
)

select
    answers.answer_id,
    answers.response_id,
    answers.survey_id,
    surveys.sent_date,
    answers.question_id,
    answers.question_text,
    answers.score,
    answers.question_id = 'enps' as is_enps_question,
    case when answers.question_id = 'enps' then {{ enps_category('answers.score') }} end as enps_category,
    answers.answer_text is not null as has_comment,
    responses.respondent_key,
    versions.team_name,
    versions.territory_code,
    versions.region
from answers
inner join responses on answers.response_id = responses.response_id
inner join surveys on answers.survey_id = surveys.survey_id
left join versions
    on responses.respondent_employee_id = versions.employee_id
    and surveys.sent_date >= versions.valid_from
    and surveys.sent_date < versions.valid_to
