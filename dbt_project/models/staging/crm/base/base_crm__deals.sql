{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows. -#}
{{ config(materialized='incremental', unique_key='deal_id', incremental_strategy='delete+insert') }}
with source as (
    {{ rows_to_stage(source('crm', 'deals'), 'id', 'deal_id') }}
),

{{ known_owners_cte() }},

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as deal_id,
        dealname as deal_name,
        pipeline as pipeline_id,
        dealstage as deal_stage_id,
        {{ parse_decimal('amount') }} as amount,
        upper(trim(deal_currency_code)) as currency_code,
        dealtype as deal_type,
        closed_lost_reason,
        {{ parse_integer('contract_term_months') }} as contract_term_months,
        hubspot_owner_id as owner_id,
        associated_company_id as company_id,
        associated_contact_id as primary_contact_id,
        associated_contacts_count as contact_count,
        {{ utc_timestamp('createdate') }} as created_at,
        {{ utc_timestamp('closedate') }} as closed_at,
        cast({{ utc_timestamp('closedate') }} as date) as close_date,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        {{ utc_timestamp('archived_at') }} as archived_at,
        amount as amount_raw,
        {{ reject_columns([
            unparseable_decimal('amount', 'amount is not a number'),
            missing_value('createdate', 'deal has no create date'),
            unparseable_timestamp('createdate'),
            unparseable_timestamp('closedate'),
            unparseable_integer('contract_term_months'),
            unknown_owner(),
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id
    from source
)

select
    deal_id, deal_name, pipeline_id, deal_stage_id, amount, currency_code, deal_type, closed_lost_reason,
    contract_term_months, owner_id, company_id, primary_contact_id, contact_count, created_at, closed_at,
    close_date, updated_at, is_archived, archived_at, amount_raw, _source_file, _source_line, _dlt_load_id,
    _reject_reason, _reject_field, _reject_value
from typed
