{{ config(meta={'dagster': {'ref': {'name': 'fct_survey_responses'}}}) }}
-- depends_on: {{ ref('fct_survey_responses') }}
-- depends_on: {{ ref('mart_engagement') }}
-- depends_on: {{ ref('mart_engagement_questions') }}
-- depends_on: {{ ref('mart_engagement_performance') }}
-- No BI-readable survey table carries an employee id, name or e-mail column.
select table_name, column_name
from information_schema.columns
where table_schema = 'marts'
    and (table_name like '%survey%' or table_name like '%engagement%')
    and (
        column_name like '%employee%'
        or column_name like '%email%'
        or (column_name like '%name' and column_name not in ('team_name', 'survey_name'))
    )
