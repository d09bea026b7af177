{#-
  Average score per question, survey wave and group (company, region, team), under the same
  suppression as mart_engagement: a suppressed group shows no answer counts or averages. The
  waves of mart_engagement (none sent after the as-of date). Averages to 1 decimal.
-#}
with answers as (
    select
        survey_id,
        question_id,
        question_text,
        score,
        respondent_key,
        'company' as company_key,
        coalesce(region, 'unassigned') as region_key,
        coalesce(team_name, 'no team') as team_key
    from {{ ref('int_survey_answers_attributed') }}
    where score is not null
),

by_group as (
    select survey_id, question_id, max(question_text) as question_text, 'company' as group_type,
        company_key as group_key, count(*) as answers, avg(cast(score as double)) as average_score
    from answers group by survey_id, question_id, company_key
    union all
    select survey_id, question_id, max(question_text), 'region', region_key, count(*), avg(cast(score as double))
    from answers group by survey_id, question_id, region_key
    union all
    select survey_id, question_id, max(question_text), 'team', team_key, count(*), avg(cast(score as double))
    from answers group by survey_id, question_id, team_key
)

select
    {{ dbt.concat(['by_group.survey_id', "'|'", 'by_group.group_type', "'|'", 'by_group.group_key', "'|'",
                   'by_group.question_id']) }} as engagement_question_key,
    by_group.survey_id,
    engagement.sent_date,
    engagement.is_complete_period,
    by_group.group_type,
    by_group.group_key,
    by_group.question_id,
    by_group.question_text,
    engagement.is_suppressed,
    case when not engagement.is_suppressed then by_group.answers end as answers,
    case when not engagement.is_suppressed then {{ rounded('by_group.average_score', 'score') }} end as average_score
from by_group
inner join {{ ref('mart_engagement') }} as engagement
    on by_group.survey_id = engagement.survey_id
    and by_group.group_type = engagement.group_type
    and by_group.group_key = engagement.group_key
