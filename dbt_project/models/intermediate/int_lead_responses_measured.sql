{#-
  One row per contact (lead): when it was created, its owner's rep version then, and its first
  outbound call or e-mail after creation. A lead with no touch yet is unanswered (kept, with
  null response time), not dropped.
  A table: finding each lead's first touch scans the activities fact, which its tests and
  mart_sales_kpis would otherwise each do again.
-#}
{{ config(materialized='table') }}
with contacts as (
    select contact_id, owner_id, created_at
    from {{ ref('stg_crm__contacts') }}
    where not is_archived
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
    touches.first_touch_at is null as is_unanswered
from contacts
left join touches on contacts.contact_id = touches.contact_id
left join {{ ref('dim_reps') }} as reps
    on contacts.owner_id = reps.owner_id
    and cast(contacts.created_at as date) >= reps.valid_from
    and cast(contacts.created_at as date) < reps.valid_to
