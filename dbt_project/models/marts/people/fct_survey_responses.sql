{#-
  One row per survey answer, for the people team's own analyses: the wave, the question, the
  score and the respondent's pseudonym for that wave, and nothing that narrows a group.
  - No team, territory, region or any other attribute of the respondent: group figures are in
    mart_engagement and mart_engagement_questions, where groups under the minimum size are
    suppressed (with secondary suppression). An attribute here would let anyone count answers
    per team below that minimum.
  - Only waves with at least var('survey_min_group_size') respondents: in a smaller wave the
    answers themselves would narrow the group.
  - respondent_key is keyed per wave by the load (ingestion/pseudonyms.py): the same person has
    unrelated keys in two waves, so answers cannot be linked across waves.
  - No answer or response id of the survey tool (they join back to the raw export), no comment
    text (has_comment only).
-#}
{%- set min_size = var('survey_min_group_size', 5) | int -%}
with answers as (
    select * from {{ ref('int_survey_answers_attributed') }}
),

waves as (
    select survey_id
    from answers
    group by survey_id
    having count(distinct respondent_key) >= {{ min_size }}
)

select
    {{ dbt.hash(dbt.concat(['answers.respondent_key', "'|'", 'answers.question_id'])) }} as answer_key,
    answers.survey_id,
    answers.sent_date,
    answers.question_id,
    answers.question_text,
    answers.score,
    answers.is_enps_question,
    answers.enps_category,
    answers.has_comment,
    answers.respondent_key
from answers
inner join waves on answers.survey_id = waves.survey_id
