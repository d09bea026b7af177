{#-
  Engagement per survey wave and group (company, region, team): invited, respondents,
  participation, eNPS (promoters 9-10, passives 7-8, detractors 0-6; eNPS = % promoters -
  % detractors, -100..100), average eNPS score and comment count.
  Confidentiality (var('survey_min_group_size'), default 5):
  - primary: a region or team with fewer respondents than the minimum is suppressed;
  - secondary: among the siblings of a parent (teams within their region, regions within the
    company), once any group is suppressed, the smallest remaining siblings are suppressed too
    until the suppressed ones are at least two groups holding at least the minimum number of
    respondents together, so parent minus the shown siblings never reveals a small group, alone
    or combined;
  - a suppressed row shows no figure derived from answers (respondents, participation, eNPS,
    comments are null); the company row always shows.
  Waves sent after the as-of date (macros/as_of.sql) are left out; is_complete_period is false
  while a wave is still open (it closes after the as-of date). Participation to 4 decimals, eNPS
  and the average score to 1.
-#}
{%- set min_size = var('survey_min_group_size', 5) | int -%}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

waves as (
    select
        surveys.survey_id,
        surveys.survey_name,
        surveys.sent_date,
        {#- a wave without a closing time is complete once sent -#}
        {{ is_complete_period('coalesce(cast(surveys.closes_at as date), surveys.sent_date)', 'as_of.as_of_date') }}
            as is_complete_period
    from {{ ref('stg_surveys__surveys') }} as surveys
    cross join as_of
    where surveys.sent_date <= as_of.as_of_date
),

group_types as (
    select 'company' as group_type union all select 'region' as group_type union all select 'team' as group_type
),

team_regions as (
    {#- the region a team belongs to at each wave (its members' most common region) -#}
    select survey_id, team_name, region
    from (
        select
            waves.survey_id,
            versions.team_name,
            versions.region,
            row_number() over (
                partition by waves.survey_id, versions.team_name order by count(*) desc, versions.region
            ) as preference
        from waves
        inner join {{ ref('int_rep_versions_built') }} as versions
            on waves.sent_date >= versions.valid_from and waves.sent_date < versions.valid_to
        where versions.team_name is not null
        group by waves.survey_id, versions.team_name, versions.region
    ) as ranked
    where preference = 1
),

invited_people as (
    select waves.survey_id, versions.employee_id, versions.team_name, versions.region
    from waves
    inner join {{ ref('int_rep_versions_built') }} as versions
        on waves.sent_date >= versions.valid_from and waves.sent_date < versions.valid_to
),

invited as (
    select
        invited_people.survey_id,
        group_types.group_type,
        case group_types.group_type
            when 'company' then 'company'
            when 'region' then coalesce(invited_people.region, 'unassigned')
            else coalesce(invited_people.team_name, 'no team')
        end as group_key,
        count(*) as invited
    from invited_people
    cross join group_types
    group by 1, 2, 3
),

answered as (
    select
        answers.survey_id,
        group_types.group_type,
        case group_types.group_type
            when 'company' then 'company'
            when 'region' then coalesce(answers.region, 'unassigned')
            else coalesce(answers.team_name, 'no team')
        end as group_key,
        count(distinct answers.respondent_key) as respondents,
        count(case when answers.enps_category = 'promoter' then 1 end) as promoters,
        count(case when answers.enps_category = 'passive' then 1 end) as passives,
        count(case when answers.enps_category = 'detractor' then 1 end) as detractors,
        avg(case when answers.is_enps_question then cast(answers.score as double) end) as enps_average_score,
        count(case when answers.has_comment then 1 end) as comments
    from {{ ref('int_survey_answers_attributed') }} as answers
    cross join group_types
    group by 1, 2, 3
),

grouped as (
    select
        invited.survey_id,
        invited.group_type,
        invited.group_key,
        case invited.group_type
            when 'company' then null
            when 'region' then 'company'
            else coalesce(team_regions.region, 'unassigned')
        end as parent_key,
        invited.invited,
        coalesce(answered.respondents, 0) as respondents,
        coalesce(answered.promoters, 0) as promoters,
        coalesce(answered.passives, 0) as passives,
        coalesce(answered.detractors, 0) as detractors,
        answered.enps_average_score,
        coalesce(answered.comments, 0) as comments,
        invited.group_type != 'company' and coalesce(answered.respondents, 0) < {{ min_size }} as is_below_minimum
    from invited
    left join answered
        on invited.survey_id = answered.survey_id
        and invited.group_type = answered.group_type
        and invited.group_key = answered.group_key
    left join team_regions
        on invited.group_type = 'team'
        and invited.survey_id = team_regions.survey_id
        and invited.group_key = team_regions.team_name
),

within_parent as (
    {#- pass 1: siblings within their parent (teams in a region, regions in the company) -#}
    {{ complementary_suppression('grouped', 'is_below_minimum', 'survey_id, group_type, parent_key', min_size,
                                 'is_hidden_in_parent') }}
),

within_company as (
    {#- pass 2: all groups of a type across the company (company minus every shown team) -#}
    {{ complementary_suppression('within_parent', 'is_hidden_in_parent', 'survey_id, group_type', min_size,
                                 'is_hidden') }}
),

suppressed as (
    select
        within_company.*,
        case
            when is_below_minimum then 'below_min_group_size'
            when is_hidden then 'secondary_disclosure'
        end as suppression_reason
    from within_company
),

answered_total as (
    select suppressed.*, promoters + passives + detractors as enps_answers from suppressed
)

select
    {{ dbt.concat(['answered_total.survey_id', "'|'", 'answered_total.group_type', "'|'", 'answered_total.group_key']) }}
        as engagement_key,
    answered_total.survey_id,
    waves.survey_name,
    waves.sent_date,
    waves.is_complete_period,
    answered_total.group_type,
    answered_total.group_key,
    answered_total.parent_key,
    answered_total.invited,
    answered_total.suppression_reason is not null as is_suppressed,
    answered_total.suppression_reason,
    case when answered_total.suppression_reason is null then answered_total.respondents end as respondents,
    case when answered_total.suppression_reason is null and answered_total.invited > 0
        then {{ rounded('cast(answered_total.respondents as double) / answered_total.invited', 'fraction') }}
    end as participation_rate,
    case when answered_total.suppression_reason is null then answered_total.promoters end as promoters,
    case when answered_total.suppression_reason is null then answered_total.passives end as passives,
    case when answered_total.suppression_reason is null then answered_total.detractors end as detractors,
    case when answered_total.suppression_reason is null and answered_total.enps_answers > 0
        then {{ rounded('100.0 * (answered_total.promoters - answered_total.detractors) / answered_total.enps_answers',
                        'score') }}
    end as enps,
    case when answered_total.suppression_reason is null then {{ rounded('answered_total.enps_average_score', 'score') }}
    end as enps_average_score,
    case when answered_total.suppression_reason is null then answered_total.comments end as comments
from answered_total
inner join waves on answered_total.survey_id = waves.survey_id
