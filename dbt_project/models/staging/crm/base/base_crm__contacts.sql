{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows. -#}
{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='delete+insert') }}
with source as (
    {{ rows_to_stage(source('crm', 'contacts'), 'id', 'contact_id') }}
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as contact_id,
        lower(trim(email)) as contact_email,
        firstname as first_name,
        lastname as last_name,
        jobtitle as job_title,
        lifecyclestage as lifecycle_stage,
        hs_lead_status as lead_status,
        hubspot_owner_id as owner_id,
        associated_company_id as company_id,
        {{ utc_timestamp('createdate') }} as created_at,
        {{ utc_timestamp('hs_lifecyclestage_lead_date') }} as became_lead_at,
        {{ utc_timestamp('hs_lifecyclestage_marketingqualifiedlead_date') }} as became_mql_at,
        {{ utc_timestamp('hs_lifecyclestage_salesqualifiedlead_date') }} as became_sql_at,
        {{ utc_timestamp('hs_lifecyclestage_opportunity_date') }} as became_opportunity_at,
        {{ utc_timestamp('hs_lifecyclestage_customer_date') }} as became_customer_at,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        {{ utc_timestamp('archived_at') }} as archived_at,
        {{ reject_columns([
            missing_value('createdate', 'contact has no create date'),
            unparseable_timestamp('createdate'),
            unparseable_timestamp('hs_lifecyclestage_lead_date'),
            unparseable_timestamp('hs_lifecyclestage_marketingqualifiedlead_date'),
            unparseable_timestamp('hs_lifecyclestage_salesqualifiedlead_date'),
            unparseable_timestamp('hs_lifecyclestage_opportunity_date'),
            unparseable_timestamp('hs_lifecyclestage_customer_date'),
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id
    from source
)

select
    contact_id, contact_email, first_name, last_name, job_title, lifecycle_stage, lead_status, owner_id,
    company_id, created_at, became_lead_at, became_mql_at, became_sql_at, became_opportunity_at,
    became_customer_at, updated_at, is_archived, archived_at, _source_file, _source_line, _dlt_load_id,
    _reject_reason, _reject_field, _reject_value
from typed
