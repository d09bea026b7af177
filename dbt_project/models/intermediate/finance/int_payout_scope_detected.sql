{{ config(materialized='table') }}
-- depends_on: {{ ref('stg_plans__commission_plans') }}
-- depends_on: {{ ref('stg_plans__plan_components') }}
-- depends_on: {{ ref('stg_plans__plan_tiers') }}
-- depends_on: {{ ref('stg_plans__fx_rates') }}
{#-
  Which rows this finance build re-derives (macros/payout_scope.sql). One row per scope key and
  fingerprint month: the key is an employee id, '-' for credits without an employee, or '*' for
  the inputs every employee shares; the month is a commission period, or '' for inputs that
  reach every period of the key (every key has that row). inputs_fingerprint sums row hashes of
  the inputs as they are now:
  - per employee and month: their plan segments (assignments, plan versions, hire and leave
    dates, quota, ramp), their credits by credit month (deal, split or owner, manager overlay,
    amounts, dates, cancellation, the deal's name and close date), the versions of those deals
    (updatedAt, stage, file, line and load: the audit trail names them), the rep versions in force
    in the month, the deals their ledger lines of the month name, and their approved manual
    adjustments (plans/manual_adjustments) by pay period;
  - per employee, every month: the rep's current name (statements and the monthly mart show it);
  - shared ('*'): commission plans, components, rate tables and FX rates (without load metadata),
    the ledger's period events and line count, the months computed, the commission vars and the
    code of the finance models.
  applied_fingerprint is what the finance tables were last fully built from: this table's
  previous inputs_fingerprint once the build that wrote it committed (on-run-end,
  commit_payout_scope), else the applied fingerprint it carried.
  rederive_from_month (same on every row of a key; null: nothing to do) is the earliest month whose
  fingerprint differs ('' when the key's '' row does: every month), brought back to the first
  open period when a closed month differs (adjustments to closed periods are posted there). A build re-derives an
  employee's rows of that month and later: draw balances run forward and clawbacks land in
  later months. When '*' differs, or there is nothing to compare with (first or full-refresh
  build), everything is re-derived. A change to a finance macro is not fingerprinted: rebuild
  with `--full-refresh`.
-#}
{%- set metadata = ['_source_file', '_source_line', '_source_location', '_dlt_load_id', '_dlt_id'] %}
{%- set previous = load_relation(this) if execute else none %}
{%- set compare = previous is not none and not flags.FULL_REFRESH and not this_lacks_column('fingerprint_month') %}
{%- set finance_code = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') %}
        {%- if node.resource_type == 'model' and 'finance' in node.tags %}
            {%- do finance_code.append(node.name ~ ':' ~ node.checksum.checksum) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
with months as (
    select period_month from {{ ref('int_plan_segments_dated') }}
    union
    select {{ month_label('cancelled_date') }} from {{ ref('int_deal_credits_allocated') }}
    where cancelled_date is not null
),

latest_events as (
    select
        period_month,
        action,
        row_number() over (partition by period_month order by acted_at desc, ledger_version desc) as recency
    from {{ source('ledger', 'period_events') }}
),

closed_months as (
    select period_month from latest_events where recency = 1 and action = 'close'
),

first_open as (
    -- as int_payout_periods_classified: the earliest commission period (plan segments, ledger) not
    -- closed, from the go-live month on
    select coalesce(
        min(case when closed_months.period_month is null and periods.period_month >= {{ commission_go_live_month() }}
            then periods.period_month end),
        greatest(
            {{ month_label(dbt.dateadd('month', 1, "cast(max(periods.period_month) || '-01' as date)")) }},
            {{ commission_go_live_month() }}
        )
    ) as first_open_period_month
    from (
        select period_month from {{ ref('int_plan_segments_dated') }}
        union
        select period_month from {{ source('ledger', 'period_events') }}
    ) as periods
    left join closed_months on periods.period_month = closed_months.period_month
),

rep_months as (
    -- every month a credit or a payout line can fall in: credits come before a rep's first plan month too
    select reps.rep_version_key, reps.employee_id, reps.valid_from, reps.valid_to, covered.period_month
    from {{ ref('dim_reps') }} as reps
    inner join (
        select period_month from months
        union
        select {{ month_label('credit_date') }} from {{ ref('int_deal_credits_allocated') }}
    ) as covered
        on reps.valid_from <= {{ dbt.last_day("cast(covered.period_month || '-01' as date)", 'month') }}
        and reps.valid_to > cast(covered.period_month || '-01' as date)
),

rep_names as (
    select employee_id, rep_name,
        row_number() over (partition by employee_id order by valid_from desc) as recency
    from {{ ref('dim_reps') }}
),

per_source as (
    {{ fingerprint_rows(ref('int_plan_segments_dated'), 'employee_id', 'period_month', 'segment') }}
    union all
    {{ fingerprint_rows(ref('int_deal_credits_allocated'), "coalesce(employee_id, '-')", month_label('credit_date'), 'credit') }}
    union all
    select employee_id, period_month, sum({{ row_hash(["'rep'", 'rep_version_key', 'valid_from', 'valid_to']) }})
    from rep_months
    group by 1, 2
    union all
    select employee_id, '', sum({{ row_hash(["'name'", 'rep_name']) }})
    from rep_names
    where recency = 1
    group by 1, 2
    union all
    -- the deal versions their credits come from (the audit trail names the version, file, line and load)
    select coalesce(credits.employee_id, '-'), {{ month_label('credits.credit_date') }},
        sum({{ row_hash(["'deal version'", 'staged.deal_id', 'staged.updated_at', 'staged.deal_stage_id',
            'staged._source_file', 'staged._source_line', 'staged._dlt_load_id']) }})
    from {{ ref('int_deal_credits_allocated') }} as credits
    inner join {{ ref('stg_crm__deals') }} as staged on credits.deal_id = staged.deal_id
    group by 1, 2
    union all
    select lines.employee_id, lines.period_month, sum({{ row_hash(["'ledger deal'", 'deals.deal_id', 'deals.deal_name',
        'deals.close_date', 'deals.amount', 'deals.currency_code']) }})
    from (
        select distinct employee_id, period_month, coalesce(deal_id, corrects_deal_id) as deal_id
        from {{ source('ledger', 'payout_lines') }}
    ) as lines
    inner join {{ ref('fct_deals') }} as deals on lines.deal_id = deals.deal_id
    group by 1, 2
    union all
    -- what int_manual_adjustments_posted reads: approved adjustments in their pay period (requested
    -- and rejected ones pay nothing)
    select employee_id, pay_period_month, sum({{ row_hash(["'manual adjustment'", 'adjustment_id', 'amount',
        'currency_code', 'category', 'reason', 'requested_by', 'requested_on', 'approved_by', 'approved_on',
        'corrects_period_month', 'deal_id']) }})
    from {{ ref('stg_plans__manual_adjustments') }}
    where status = 'approved' and pay_period_month is not null and employee_id is not null
    group by 1, 2
    union all
    {{ fingerprint_rows(ref('stg_plans__commission_plans'), "'*'", "''", 'plan', metadata) }}
    union all
    {{ fingerprint_rows(ref('stg_plans__plan_components'), "'*'", "''", 'component', metadata) }}
    union all
    {{ fingerprint_rows(ref('stg_plans__plan_tiers'), "'*'", "''", 'tier', metadata) }}
    union all
    {{ fingerprint_rows(ref('stg_plans__fx_rates'), "'*'", "''", 'fx', metadata) }}
    union all
    {{ fingerprint_rows(source('ledger', 'period_events'), "'*'", "''", 'period event') }}
    union all
    select '*', '', sum({{ row_hash(["'ledger lines'", 'line_count']) }})
    from (select count(*) as line_count from {{ source('ledger', 'payout_lines') }}) as ledger
    union all
    select '*', '', sum({{ row_hash(["'month'", 'period_month']) }}) from months
    union all
    select '*', '', {{ row_hash(["'code'", "'" ~ (finance_code | join(',')) ~ "'",
        "'" ~ var('commission_through_month', '') ~ "'", "'" ~ var('commission_go_live_month', '') ~ "'",
        "'" ~ var('commission_leaver_balance', 'collect') ~ "'", "'" ~ var('as_of_date', '') ~ "'",
        "'" ~ var('reporting_currency') ~ "'"]) }}
),

current_inputs as (
    select scope_key, fingerprint_month, sum(fingerprint) as inputs_fingerprint
    from (
        select scope_key, fingerprint_month, fingerprint from per_source
        union all
        -- every key has its '' row
        select scope_key, '', {{ row_hash(["'key'", 'scope_key']) }}
        from (select distinct scope_key from per_source) as keys
    ) as fingerprints
    group by 1, 2
),

{%- if compare %}

previous_build as (
    select
        scope_key,
        fingerprint_month,
        case when is_committed then inputs_fingerprint else applied_fingerprint end as applied_fingerprint
    from {{ this }}
),
{%- else %}

previous_build as (
    select
        cast(null as {{ dbt.type_string() }}) as scope_key,
        cast(null as {{ dbt.type_string() }}) as fingerprint_month,
        cast(null as {{ fingerprint_type() }}) as applied_fingerprint
    where false
),
{%- endif %}

compared as (
    select
        coalesce(current_inputs.scope_key, previous_build.scope_key) as scope_key,
        coalesce(current_inputs.fingerprint_month, previous_build.fingerprint_month) as fingerprint_month,
        current_inputs.inputs_fingerprint,
        previous_build.applied_fingerprint,
        current_inputs.inputs_fingerprint is distinct from previous_build.applied_fingerprint as has_changed
    from current_inputs
    full outer join previous_build
        on current_inputs.scope_key = previous_build.scope_key
        and current_inputs.fingerprint_month = previous_build.fingerprint_month
    where current_inputs.inputs_fingerprint is not null or previous_build.applied_fingerprint is not null
),

shared as (
    select coalesce(max(case when has_changed then 1 else 0 end), 1) = 1 as has_changed
    from compared
    where scope_key = '*' and fingerprint_month = ''
),

keys as (
    select
        compared.scope_key,
        min(case when compared.has_changed then compared.fingerprint_month end) as earliest_changed_month,
        max(case when compared.has_changed and closed_months.period_month is not null then 1 else 0 end) = 1
            as has_closed_change
    from compared
    left join closed_months on compared.fingerprint_month = closed_months.period_month
    group by compared.scope_key
)

select
    compared.scope_key,
    compared.fingerprint_month,
    compared.inputs_fingerprint,
    compared.applied_fingerprint,
    compared.has_changed,
    case
        when shared.has_changed then ''
        when keys.has_closed_change then least(keys.earliest_changed_month, first_open.first_open_period_month)
        else keys.earliest_changed_month
    end as rederive_from_month,
    false as is_committed,
    {{ staged_at() }} as scoped_at
from compared
inner join keys on compared.scope_key = keys.scope_key
cross join shared
cross join first_open
