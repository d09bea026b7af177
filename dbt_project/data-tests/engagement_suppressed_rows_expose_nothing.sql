{{ config(meta={'dagster': {'ref': {'name': 'mart_engagement'}}}) }}
-- A suppressed engagement row shows no figure derived from answers, and eNPS stays in range.
select engagement_key, 'suppressed row exposes a figure' as problem
from {{ ref('mart_engagement') }}
where is_suppressed
    and (respondents is not null or participation_rate is not null or enps is not null or promoters is not null
         or detractors is not null or comments is not null)
union all
select engagement_key, 'eNPS out of range'
from {{ ref('mart_engagement') }}
where enps < -100 or enps > 100
union all
select engagement_question_key, 'suppressed question average exposed'
from {{ ref('mart_engagement_questions') }}
where is_suppressed and (answers is not null or average_score is not null)
