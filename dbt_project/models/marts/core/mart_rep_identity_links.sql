{#-
  The CRM-owner to HRIS-employee link, for the people who keep the two systems in step: one row
  per matched pair and one per unmatched owner or employee (never dropped), with how much CRM
  activity hangs on each owner, so an unmatched owner with deals is easy to spot.
-#}
with links as (
    select link_key, owner_id, employee_id, email, person_name, department, is_owner_archived, match_status
    from {{ ref('int_owners_linked_to_employees') }}
),

deal_counts as (
    select owner_id, count(*) as deal_count
    from {{ ref('stg_crm__deals') }}
    where owner_id is not null
    group by owner_id
),

activity_counts as (
    select owner_id, count(*) as activity_count
    from {{ ref('fct_activities') }}
    where owner_id is not null
    group by owner_id
)

select
    links.link_key,
    links.owner_id,
    links.employee_id,
    links.email,
    links.person_name,
    links.department,
    coalesce(links.is_owner_archived, false) as is_owner_archived,
    links.match_status,
    cast(coalesce(deal_counts.deal_count, 0) as bigint) as owned_deal_count,
    cast(coalesce(activity_counts.activity_count, 0) as bigint) as owned_activity_count
from links
left join deal_counts on links.owner_id = deal_counts.owner_id
left join activity_counts on links.owner_id = activity_counts.owner_id
