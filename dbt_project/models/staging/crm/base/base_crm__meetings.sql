{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows. -#}
{{ config(materialized='incremental', unique_key='meeting_id', incremental_strategy='delete+insert') }}
with source as (
    {{ rows_to_stage(source('crm', 'meetings'), 'id', 'meeting_id') }}
),

{{ known_owners_cte() }},

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as meeting_id,
        {{ utc_timestamp('hs_timestamp') }} as occurred_at,
        hs_meeting_title as meeting_title,
        {{ utc_timestamp('hs_meeting_start_time') }} as starts_at,
        {{ utc_timestamp('hs_meeting_end_time') }} as ends_at,
        upper(hs_meeting_outcome) as meeting_outcome,
        hubspot_owner_id as owner_id,
        associated_contact_id as contact_id,
        associated_company_id as company_id,
        associated_deal_id as deal_id,
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        {{ reject_columns([
            missing_value('hs_timestamp', 'activity has no timestamp'),
            unparseable_timestamp('hs_timestamp'),
            unparseable_timestamp('hs_meeting_start_time'),
            unparseable_timestamp('hs_meeting_end_time'),
            unknown_owner(),
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id,
        {{ staged_at() }} as _staged_at
    from source
)

select
    meeting_id, occurred_at, meeting_title, starts_at, ends_at,
    {{ dbt.datediff('starts_at', 'ends_at', 'minute') }} as duration_minutes,
    meeting_outcome, owner_id, contact_id, company_id, deal_id, created_at, updated_at, is_archived,
    _source_file, _source_line, _dlt_load_id,
    _staged_at, _reject_reason, _reject_field, _reject_value
from typed
