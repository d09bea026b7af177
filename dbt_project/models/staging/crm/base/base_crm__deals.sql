{#- Every record in its latest version, typed, with the first check it fails (null: clean).
    Raw CRM tables hold one row per id (dlt merges on it; the source test unique_id checks it).
    Incremental: a table, so staging, rejects, tests and facts read the parsed rows.

    Besides values that do not parse, a deal is held back when fct_deals could not build it: no
    amount, an amount outside +/- var('max_deal_amount') in its currency or converted to the
    reporting currency (the facts' DECIMAL(18, 2) holds 1e16; the limit leaves room for sums), a
    close or create date outside var('deal_dates_from') .. var('deal_dates_to'), a stage that is
    not a stage of its pipeline, no FX rate for its currency in (or before) the month fct_deals
    converts it in. Those last checks read reference data (stages, FX rates): an incremental build
    also re-checks the staged deals that the current reference data no longer lets through. -#}
{{ config(materialized='incremental', unique_key='deal_id', incremental_strategy='delete+insert') }}
{%- set amount_limit = var('max_deal_amount') %}
{%- set dates_from, dates_to = var('deal_dates_from'), var('deal_dates_to') %}
{%- set date_window = "cast('" ~ dates_from ~ "' as date) and cast('" ~ dates_to ~ "' as date)" %}
{#- exact products: amounts below the limit and rates of DECIMAL(18, 6) fit in 30 integer digits -#}
{%- set converted = "abs(cast(%s as decimal(38, 2)) * cast(%s as decimal(38, 6)))" %}
with known_stages as (
    select distinct pipeline_id, deal_stage_id from {{ ref('stg_crm__pipeline_stages') }}
),

fx as (
    {{ fx_rate_periods() }}
),

source as (
    {%- set recheck -%}
    select staged.deal_id
    from {{ this }} as staged
    left join known_stages
        on staged.pipeline_id = known_stages.pipeline_id
        and staged.deal_stage_id = known_stages.deal_stage_id
    left join fx
        on {{ deal_fx_matches('staged', 'fx') }}
    where staged._reject_reason is null
        and (
            known_stages.deal_stage_id is null
            or fx.rate_to_reporting is null
            or {{ converted | format('staged.amount', 'fx.rate_to_reporting') }} >= {{ amount_limit }}
        )
    {%- endset %}
    {{ rows_to_stage(source('crm', 'deals'), 'id', 'deal_id', recheck=recheck) }}
),

{{ known_owners_cte() }},

parsed as (
    select
        source.*,
        {{ parse_decimal('amount', 38, 2) }} as _amount_wide,
        upper(trim(deal_currency_code)) as _currency_code,
        cast({{ utc_timestamp('closedate') }} as date) as _close_date,
        cast({{ utc_timestamp('createdate') }} as date) as _create_date
    from source
),

dated as (
    select parsed.*, {{ deal_fx_month('_close_date', '_create_date') }} as _fx_month
    from parsed
),

{#- the FX rate and stage fct_deals will join (the month as deal_fx_matches takes it); a rate's
    months do not overlap (fx_rate_periods), so a deal matches one rate at most -#}
checked as (
    select
        dated.*,
        known_stages.deal_stage_id is not null as _stage_is_known,
        fx.rate_to_reporting as _rate_to_reporting,
        case when abs(_amount_wide) < {{ amount_limit }} then _amount_wide end as _amount_in_range
    from dated
    left join known_stages
        on dated.pipeline = known_stages.pipeline_id
        and dated.dealstage = known_stages.deal_stage_id
    left join fx
        on dated._currency_code = fx.currency_code
        and dated._fx_month >= fx.valid_from
        and dated._fx_month < fx.valid_to
),

typed as (
    select
        cast(id as {{ dbt.type_string() }}) as deal_id,
        dealname as deal_name,
        pipeline as pipeline_id,
        dealstage as deal_stage_id,
        {{ parse_decimal('amount') }} as amount,
        _currency_code as currency_code,
        dealtype as deal_type,
        closed_lost_reason,
        {{ parse_integer('contract_term_months') }} as contract_term_months,
        hubspot_owner_id as owner_id,
        associated_company_id as company_id,
        associated_contact_id as primary_contact_id,
        associated_contacts_count as contact_count,
        {{ utc_timestamp('createdate') }} as created_at,
        {{ utc_timestamp('closedate') }} as closed_at,
        _close_date as close_date,
        {{ utc_timestamp('updated_at') }} as updated_at,
        coalesce(archived, false) as is_archived,
        {{ utc_timestamp('archived_at') }} as archived_at,
        amount as amount_raw,
        {{ reject_columns([
            {'when': "nullif(trim(amount), '') is not null and _amount_wide is null",
             'reason': 'amount is not a number', 'field': 'amount'},
            {'when': "_amount_wide is not null and _amount_in_range is null",
             'reason': 'amount out of range (must be below ' ~ amount_limit ~ ' in absolute value)', 'field': 'amount'},
            missing_value('amount', 'deal has no amount'),
            missing_value('createdate', 'deal has no create date'),
            unparseable_timestamp('createdate'),
            unparseable_timestamp('closedate'),
            {'when': "_create_date not between " ~ date_window,
             'reason': 'create date outside ' ~ dates_from ~ ' to ' ~ dates_to, 'field': 'createdate'},
            {'when': "_close_date not between " ~ date_window,
             'reason': 'close date outside ' ~ dates_from ~ ' to ' ~ dates_to, 'field': 'closedate'},
            unparseable_integer('contract_term_months'),
            unknown_owner(),
            {'when': "not _stage_is_known", 'reason': 'stage is not a stage of the pipeline', 'field': 'dealstage',
             'value': "coalesce(pipeline, '(no pipeline)') || ' / ' || coalesce(dealstage, '(no stage)')"},
            {'when': "_rate_to_reporting is null",
             'reason': 'no FX rate for the currency in or before the deal month (plans/fx_rates)',
             'field': 'deal_currency_code',
             'value': "coalesce(_currency_code, '(no currency)') || ' ' || coalesce("
                ~ dbt.cast('_fx_month', dbt.type_string()) ~ ", '(no date)')"},
            {'when': (converted | format('_amount_in_range', '_rate_to_reporting')) ~ " >= " ~ amount_limit,
             'reason': 'amount in the reporting currency out of range (must be below ' ~ amount_limit ~ ' in absolute value)',
             'field': 'amount'},
        ]) }},
        _source_file,
        _source_line,
        _dlt_load_id
    from checked
)

select
    deal_id, deal_name, pipeline_id, deal_stage_id, amount, currency_code, deal_type, closed_lost_reason,
    contract_term_months, owner_id, company_id, primary_contact_id, contact_count, created_at, closed_at,
    close_date, updated_at, is_archived, archived_at, amount_raw, _source_file, _source_line, _dlt_load_id,
    _reject_reason, _reject_field, _reject_value
from typed
