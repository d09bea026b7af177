{#-
  One row per call, email or meeting. The rep version is the one valid on the activity's date,
  so an activity in March counts for the team the rep was in during March.

  Incremental (10 M rows at the large scale): a run re-derives only
  - the activities staging (re)processed since this table's last run (`staged_at` newer than the
    table's latest: new records, new versions, records that are no longer rejected), and
  - the activities whose rep version no longer fits the rep history (a back-dated team change,
    a rep linked to an owner since): the rows whose key, owner or dates miss dim_reps now. Only
    their rep changes, so they are re-fitted from this table's own rows; reading them back from
    staging by key scanned every staged call and e-mail (11 M rows) on every run;
  and the post-hook deletes activities whose latest version is now rejected.
  `dbt build --full-refresh -s fct_activities` rebuilds it from scratch.
-#}
{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=["{{ delete_rejected_activities() }}"],
) }}
-- depends_on: {{ ref('base_crm__calls') }}, {{ ref('base_crm__emails') }}, {{ ref('base_crm__meetings') }}
{%- if is_incremental() %}
    {%- set previous_run = high_watermark('staged_at', data_type=dbt.type_timestamp(), default="cast('0001-01-01' as " ~ dbt.type_timestamp() ~ ")") %}
{%- endif %}
with reps as (
    select rep_version_key, employee_id, owner_id, valid_from, valid_to
    from {{ ref('dim_reps') }}
    where owner_id is not null
),

calls as (
    select
        'call' as activity_type, call_id as source_id, occurred_at, owner_id, contact_id, company_id, deal_id,
        direction, cast(duration_ms as double) / 1000 as duration_seconds, disposition as outcome, is_archived, _staged_at
    from {{ ref('stg_crm__calls') }}
    {{ activities_to_derive(previous_run) }}
),

emails as (
    select
        'email' as activity_type, email_id as source_id, occurred_at, owner_id, contact_id, company_id, deal_id,
        direction, cast(null as double) as duration_seconds, lower(email_status) as outcome, is_archived, _staged_at
    from {{ ref('stg_crm__emails') }}
    {{ activities_to_derive(previous_run) }}
),

meetings as (
    select
        'meeting' as activity_type, meeting_id as source_id, occurred_at, owner_id, contact_id, company_id, deal_id,
        'OUTBOUND' as direction, cast(duration_minutes as double) * 60 as duration_seconds,
        lower(meeting_outcome) as outcome, is_archived, _staged_at
    from {{ ref('stg_crm__meetings') }}
    {{ activities_to_derive(previous_run) }}
),

activities as (
    select * from calls
    union all
    select * from emails
    union all
    select * from meetings
),

staged as (
    select
        activities.activity_type || ':' || activities.source_id as activity_id,
        activities.activity_type,
        activities.source_id,
        activities.occurred_at,
        cast(activities.occurred_at as date) as activity_date,
        activities.owner_id,
        activities.contact_id,
        activities.company_id as account_id,
        activities.deal_id,
        activities.direction,
        activities.duration_seconds,
        case
            when activities.activity_type = 'call' and activities.outcome = 'connected'
                then activities.duration_seconds / 60
            else 0
        end as talk_minutes,
        activities.outcome,
        activities.activity_type = 'call' and activities.outcome = 'connected' as is_connected_call,
        activities.activity_type = 'meeting' and activities.outcome = 'completed' as is_held_meeting,
        activities.is_archived,
        activities._staged_at as staged_at
    from activities
),

derived as (
    select * from staged
{%- if is_incremental() %}
    union all
    {#- rows whose rep version no longer fits the rep history (key, owner or date miss the current
        versions; or no rep while a version of the owner covers the date now), and not re-staged
        in this build (those are in `staged` already): only the rep changes #}
    select
        activity_id, activity_type, source_id, occurred_at, activity_date, owner_id, contact_id, account_id,
        deal_id, direction, duration_seconds, talk_minutes, outcome, is_connected_call, is_held_meeting,
        is_archived, staged_at
    from {{ this }} as built
    where activity_id in (
        {{ rep_version_misfits(this, 'facts.activity_id', 'activity_date') }}
    )
        and not exists (select 1 from staged where staged.activity_id = built.activity_id)
{%- endif %}
)

select
    derived.activity_id,
    derived.activity_type,
    derived.source_id,
    derived.occurred_at,
    derived.activity_date,
    derived.owner_id,
    reps.rep_version_key,
    reps.employee_id,
    derived.contact_id,
    derived.account_id,
    derived.deal_id,
    derived.direction,
    derived.duration_seconds,
    derived.talk_minutes,
    derived.outcome,
    derived.is_connected_call,
    derived.is_held_meeting,
    derived.is_archived,
    derived.staged_at
from derived
left join reps
    on derived.owner_id = reps.owner_id
    and derived.activity_date >= reps.valid_from
    and derived.activity_date < reps.valid_to
