{#-
  Filter of one activity type's staging rows for an incremental build of fct_activities: the rows
  staging (re)processed since the table's last run, and the rows whose rep version no longer fits
  the rep history (their key, owner or dates miss dim_reps now, or they had no rep and may have
  one now). A full build takes every row.
-#}
{% macro activities_to_derive(activity_type, source_key) -%}
    {%- if is_incremental() %}
    where _staged_at > (select max(staged_at) from {{ this }})
        or {{ source_key }} in (
            select facts.source_id
            from {{ this }} as facts
            left join {{ ref('dim_reps') }} as reps
                on facts.rep_version_key = reps.rep_version_key
                and facts.owner_id = reps.owner_id
                and facts.activity_date >= reps.valid_from
                and facts.activity_date < reps.valid_to
            where facts.activity_type = '{{ activity_type }}'
                and facts.owner_id is not null
                and reps.rep_version_key is null
        )
    {%- endif %}
{%- endmacro %}

{#- Post-hook of fct_activities: drop the activities whose latest version staging now rejects
    (an incremental build only adds or replaces rows by key). -#}
{% macro delete_rejected_activities() -%}
    delete from {{ this }}
    where activity_id in (
        select 'call:' || call_id from {{ ref('base_crm__calls') }} where _reject_reason is not null
        union all
        select 'email:' || email_id from {{ ref('base_crm__emails') }} where _reject_reason is not null
        union all
        select 'meeting:' || meeting_id from {{ ref('base_crm__meetings') }} where _reject_reason is not null
    )
{%- endmacro %}
