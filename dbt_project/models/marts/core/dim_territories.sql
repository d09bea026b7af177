{#- One row per sales territory, with its region (HRIS division). -#}
with territories as (
    select
        territory_code,
        region,
        row_number() over (partition by territory_code order by valid_from desc, rep_version_key desc) as recency
    from {{ ref('int_rep_versions_built') }}
    where territory_code is not null
)

select
    territory_code as territory_key,
    territory_code,
    region
from territories
where recency = 1
