with source as (
    select * from {{ source('crm', 'owners') }}
),

ranked as (
    select
        cast(id as {{ dbt.type_string() }}) as owner_id,
        lower(trim(email)) as owner_email,
        first_name,
        last_name,
        cast(user_id as bigint) as crm_user_id,
        primary_team_id as crm_team_id,
        primary_team_name as crm_team_name,
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        _source_file,
        _dlt_load_id,
        {{ latest_first('id', 'updated_at desc, _dlt_load_id desc') }} as version_rank
    from source
)

select
    owner_id,
    owner_email,
    first_name,
    last_name,
    crm_user_id,
    crm_team_id,
    crm_team_name,
    created_at,
    updated_at,
    is_archived,
    _source_file,
    _dlt_load_id
from ranked
where version_rank = 1
