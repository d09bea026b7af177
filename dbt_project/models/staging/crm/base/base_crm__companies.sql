{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows. -#}
{{ config(materialized='incremental', unique_key='company_id', incremental_strategy='delete+insert') }}
with source as (
    {{ rows_to_stage(source('crm', 'companies'), 'id', 'company_id') }}
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as company_id,
        name as company_name,
        lower(trim(domain)) as company_domain,
        industry,
        country,
        city,
        {{ parse_integer('numberofemployees') }} as employee_count,
        {{ parse_decimal('annualrevenue', 20, 2) }} as annual_revenue,
        hubspot_owner_id as owner_id,
        {{ utc_timestamp('createdate') }} as created_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        {{ utc_timestamp('archived_at') }} as archived_at,
        {{ reject_columns([
            unparseable_timestamp('createdate'),
            unparseable_integer('numberofemployees'),
            unparseable_decimal('annualrevenue'),
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id
    from source
)

select
    company_id, company_name, company_domain, industry, country, city, employee_count, annual_revenue,
    owner_id, created_at, updated_at, is_archived, archived_at, _source_file, _source_line, _dlt_load_id,
    _reject_reason, _reject_field, _reject_value
from typed
