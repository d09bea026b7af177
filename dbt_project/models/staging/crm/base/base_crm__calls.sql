{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows. -#}
{{ config(materialized='incremental', unique_key='call_id', incremental_strategy='delete+insert') }}
with source as (
    {{ rows_to_stage(source('crm', 'calls'), 'id', 'call_id') }}
),

{{ known_owners_cte() }},

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as call_id,
        {{ utc_timestamp('hs_timestamp') }} as occurred_at,
        hs_call_title as call_title,
        upper(hs_call_direction) as direction,
        {{ parse_integer('hs_call_duration') }} as duration_ms,
        hs_call_disposition as disposition_id,
        case hs_call_disposition
            when 'f240bbac-87c9-4f6e-bf70-924b57d47db7' then 'connected'
            when 'b2cf5968-551e-4856-9783-52b3da59a7d0' then 'left_voicemail'
            when '73a0d17f-1163-4015-bdd5-ec830791da20' then 'no_answer'
            when '9d9162e7-6cf3-4944-bf63-4dff82258764' then 'busy'
            when 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff' then 'left_live_message'
            when '17b47fee-58de-441e-a44c-c6300d46f273' then 'wrong_number'
        end as disposition,
        hs_call_status as call_status,
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
            unparseable_integer('hs_call_duration', 'call duration is not a whole number of milliseconds'),
            unknown_owner(),
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id,
        {{ staged_at() }} as _staged_at
    from source
)

select
    call_id, occurred_at, call_title, direction, duration_ms, disposition_id, disposition, call_status, owner_id,
    contact_id, company_id, deal_id, created_at, updated_at, is_archived, _source_file, _source_line, _dlt_load_id,
    _staged_at, _reject_reason, _reject_field, _reject_value
from typed
