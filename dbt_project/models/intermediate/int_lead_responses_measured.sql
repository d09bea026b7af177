{#-
  One row per contact (lead): when it was created, its owner's rep version then, and its first
  outbound call or e-mail after creation. A lead with no touch yet is unanswered (kept, with
  null response time), not dropped.
  A table: finding each lead's first touch scans the activities fact, which its tests and
  mart_sales_kpis would otherwise each do again.

  Incremental, by contact (2.4 M leads at the large scale took about 4 s to derive whole every
  day, on the critical path of the daily build). A build re-derives
  - the contacts loaded since its last build and those not in it yet (new, or no longer rejected),
  - the contacts of every call or e-mail staged since its last build (a new, changed or now
    rejected touch can move the first touch), and
  - the leads whose rep version no longer fits the rep history (a back-dated team change);
  the post-hook deletes the contacts archived or rejected since. An activity moved from one
  contact to another leaves the first contact's touch as it was until a full refresh: staging
  keeps only an activity's latest association. `dbt build --full-refresh -s
  int_lead_responses_measured` rebuilds it whole.
-#}
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=["{{ delete_leads_no_longer_staged() }}"],
) }}
-- depends_on: {{ ref('base_crm__calls') }}, {{ ref('base_crm__emails') }}, {{ ref('base_crm__contacts') }}
{%- set derive_changed_only = is_incremental() and not this_lacks_column('built_at') %}
{%- if derive_changed_only %}
    {%- set previous_build = high_watermark('built_at', data_type=dbt.type_timestamp(), default='null') %}
{%- endif %}
with reps as (
    select rep_version_key, employee_id, owner_id, valid_from, valid_to
    from {{ ref('dim_reps') }}
    where owner_id is not null
),
{%- if derive_changed_only %}

contacts_to_derive as (
    {{ keys_loaded_since_last_build(ref('stg_crm__contacts'), 'contact_id', 'contact_id') }}
    union
    select contact_id from {{ ref('base_crm__calls') }}
    where _staged_at > {{ previous_build }} and contact_id is not null
    union
    select contact_id from {{ ref('base_crm__emails') }}
    where _staged_at > {{ previous_build }} and contact_id is not null
    union
    {{ rep_version_misfits(this, 'facts.contact_id', 'created_date') }}
),
{%- endif %}

contacts as (
    select contact_id, owner_id, created_at, _dlt_load_id
    from {{ ref('stg_crm__contacts') }}
    where not is_archived
    {%- if derive_changed_only %}
        and contact_id in (select contact_id from contacts_to_derive)
    {%- endif %}
),

touches as (
    select
        contacts.contact_id,
        min(activities.occurred_at) as first_touch_at
    from contacts
    inner join {{ ref('fct_activities') }} as activities
        on contacts.contact_id = activities.contact_id
        and activities.direction = 'OUTBOUND'
        and activities.activity_type in ('call', 'email')
        and activities.occurred_at >= contacts.created_at
    group by contacts.contact_id
)

select
    contacts.contact_id,
    contacts.owner_id,
    reps.rep_version_key,
    reps.employee_id,
    contacts.created_at,
    cast(contacts.created_at as date) as created_date,
    touches.first_touch_at,
    cast({{ dbt.datediff('contacts.created_at', 'touches.first_touch_at', 'second') }} as double) / 60
        as response_minutes,
    touches.first_touch_at is null as is_unanswered,
    contacts._dlt_load_id,
    {{ staged_at() }} as built_at
from contacts
left join touches on contacts.contact_id = touches.contact_id
left join reps
    on contacts.owner_id = reps.owner_id
    and cast(contacts.created_at as date) >= reps.valid_from
    and cast(contacts.created_at as date) < reps.valid_to
