{{ config(meta={'dagster': {'ref': {'name': 'stg_crm__deals'}}}) }}
{#-
  Nothing disappears between landing and staging: for every entity, the rows in raw plus the
  lines dlt could not merge equal the staged rows plus the rejected rows. A row is returned
  (and the test fails) for each entity where the two sides differ.
-#}
{%- set entities = [
    ('crm', 'owners', 'stg_crm__owners', true, 'rejects_crm__owners'),
    ('crm', 'companies', 'stg_crm__companies', true, 'rejects_crm__companies'),
    ('crm', 'contacts', 'stg_crm__contacts', true, 'rejects_crm__contacts'),
    ('crm', 'deals', 'stg_crm__deals', true, 'rejects_crm__deals'),
    ('crm', 'calls', 'stg_crm__calls', true, 'rejects_crm__calls'),
    ('crm', 'emails', 'stg_crm__emails', true, 'rejects_crm__emails'),
    ('crm', 'meetings', 'stg_crm__meetings', true, 'rejects_crm__meetings'),
    ('crm', 'pipelines', 'stg_crm__pipelines', false, none),
    ('crm', 'pipeline_stages', 'stg_crm__pipeline_stages', false, none),
    ('hris', 'employees', 'stg_hris__employees', false, 'rejects_hris__employees'),
    ('hris', 'job_info', 'stg_hris__job_history', false, none),
    ('surveys', 'surveys', 'stg_surveys__surveys', false, none),
    ('surveys', 'survey_questions', 'stg_surveys__survey_questions', false, none),
    ('surveys', 'responses', 'stg_surveys__responses', true, 'rejects_surveys__responses'),
    ('surveys', 'answers', 'stg_surveys__answers', true, 'rejects_surveys__answers'),
    ('plans', 'quotas', 'stg_plans__quotas', false, none),
    ('plans', 'plan_assignments', 'stg_plans__plan_assignments', false, none),
    ('plans', 'credit_splits', 'stg_plans__credit_splits', false, none),
    ('plans', 'fx_rates', 'stg_plans__fx_rates', false, none),
    ('plans', 'commission_plans', 'stg_plans__commission_plans', false, none),
    ('plans', 'plan_components', 'stg_plans__plan_components', false, none),
    ('plans', 'plan_tiers', 'stg_plans__plan_tiers', false, none),
] -%}

with counts as (
    {%- for source_name, table, staged, has_load_rejects, rejected in entities %}
    select
        '{{ source_name }}.{{ table }}' as entity,
        (select count(*) from {{ source(source_name, table) }}) as raw_rows,
        {% if has_load_rejects -%}
        (select count(*) from {{ source(source_name, table ~ '_rejected') }})
        {%- else %}0{% endif %} as unmergeable_lines,
        (select count(*) from {{ ref(staged) }}) as staged_rows,
        {% if rejected -%}
        (select count(*) from {{ ref(rejected) }})
        {%- else %}0{% endif %} as rejected_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select entity, raw_rows, unmergeable_lines, staged_rows, rejected_rows
from counts
where raw_rows + unmergeable_lines <> staged_rows + rejected_rows
