{#- One row per sales team; region, territory and manager from the team's most recent job rows. -#}
with memberships as (
    select
        team_name,
        region,
        territory_code,
        manager_employee_id,
        manager_name,
        valid_from,
        row_number() over (partition by team_name order by valid_from desc, rep_version_key desc) as recency
    from {{ ref('int_rep_versions_built') }}
    where team_name is not null
)

select
    team_name as team_key,
    team_name,
    region,
    territory_code,
    manager_employee_id,
    manager_name
from memberships
where recency = 1
