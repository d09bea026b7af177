{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  One row per payout line: what each rep is paid, line by line, for every period. A closed
  period shows exactly the lines frozen in the ledger at its current version (never recomputed);
  an open period, and a history period (before the go-live month: computed, never paid), shows
  today's lines: commission per deal and band, multipliers, SPIFs,
  clawbacks, adjustments to closed periods (referencing the period and deal they correct), the
  draw paid or recovered, and a negative month's shortfall carried forward (balance_carried_forward,
  bringing the month to 0) or recovered from a later month (balance_recovery), and the manual
  adjustments finance approved (manual_adjustment, from plans/manual_adjustments). `spm close-period` freezes an open period's lines as they stand here.
  band_amount, the part of a rate-table line's credit inside its band (what the rate is paid on),
  is empty on lines frozen before the ledger kept it.
  deal_name .. deal_contract_term_months describe the deal a line pays or corrects as the line was
  computed from it: today's deal on an open line, the deal as it was at close on a closed line (the
  ledger keeps them; lines frozen before it did show today's deal).
-#}
{#- Where each line's inputs came from (the audit trail): the deal version, credit, quota and plan
    or register line it was computed from; frozen with a closed line, today's on an open one. -#}
{%- set provenance = {
    'deal_stage_id': dbt.type_string(),
    'deal_updated_at': dbt.type_timestamp(),
    'deal_source_file': dbt.type_string(),
    'deal_source_line': dbt.type_bigint(),
    'deal_load_id': dbt.type_string(),
    'credit_source': dbt.type_string(),
    'split_source_file': dbt.type_string(),
    'split_source_line': dbt.type_bigint(),
    'quota_source_file': dbt.type_string(),
    'quota_source_line': dbt.type_bigint(),
    'rule_source_file': dbt.type_string(),
    'rule_source_line': dbt.type_bigint(),
    'rule_source_location': dbt.type_string(),
} %}
{%- set today = {
    'deal_stage_id': 'deals.deal_stage_id',
    'deal_updated_at': 'deal_versions.updated_at',
    'deal_source_file': 'deal_versions._source_file',
    'deal_source_line': 'deal_versions._source_line',
    'deal_load_id': 'deal_versions._dlt_load_id',
    'credit_source': 'credits.credit_source',
    'split_source_file': 'splits._source_file',
    'split_source_line': 'splits._source_line',
    'quota_source_file': 'quotas._source_file',
    'quota_source_line': 'quotas._source_line',
    'rule_source_file': 'coalesce(tiers._source_file, components._source_file, manual.source_file)',
    'rule_source_line': 'coalesce(tiers._source_line, components._source_line, manual.source_line)',
    'rule_source_location': "coalesce(tiers._source_location, components._source_location, 'adjustment ' || manual.adjustment_id)",
} %}
with periods as (
    select period_month, period_status, closed_version, closed_at from {{ ref('int_payout_periods_classified') }}
),

closed_lines as (
    select
        lines.payout_line_key, lines.period_month, lines.period_start_date, lines.employee_id, lines.deal_id,
        lines.plan_version_key, lines.component_id, lines.line_type, lines.credit_type, lines.credit_pct,
        lines.credited_amount, lines.band_amount, lines.tier_number, lines.rate, lines.rule_applied, lines.amount,
        lines.currency_code, lines.corrects_period_month, lines.corrects_deal_id,
        'closed' as period_status, lines.ledger_version, lines.closed_at,
        lines.deal_name, lines.deal_close_date, lines.deal_amount, lines.deal_currency_code,
        lines.deal_contract_term_months
        {%- for column in provenance %}, lines.{{ column }}{% endfor %}
    from {{ source('ledger', 'payout_lines') }} as lines
    inner join periods
        on lines.period_month = periods.period_month
        and lines.ledger_version = periods.closed_version
    where periods.period_status = 'closed' and {{ in_payout_scope('lines.employee_id', 'lines.period_month') }}
),

open_periods as (
    select period_month, period_status from periods where period_status in ('open', 'history')
),

adjustments as (
    select
        {{ payout_line_key('employee_id', 'period_month', 'line_type', 'component_id', 'credit_type', 'corrects_deal_id',
            'cast(null as integer)', 'corrects_period_month') }} as payout_line_key,
        period_month, employee_id, deal_id, plan_version_key, component_id, line_type, credit_type,
        amount, rule_applied, currency_code, corrects_period_month, corrects_deal_id
    from {{ ref('int_payout_adjustments_posted') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
),

draws as (
    select employee_id, period_month, component_id, plan_version_key, 'draw' as line_type, draw_paid as amount,
        'draw: guarantee ' || cast(guaranteed_draw as {{ dbt.type_string() }}) || ', advance '
            || cast(recoverable_draw as {{ dbt.type_string() }}) || ' against earnings of '
            || cast(earned_amount as {{ dbt.type_string() }}) as rule_applied,
        currency_code
    from {{ ref('int_draw_lines_settled') }}
    where draw_paid <> 0 and {{ in_payout_scope('employee_id', 'period_month') }}
    union all
    select employee_id, period_month, component_id, plan_version_key, 'draw_recovery', -draw_recovered,
        'draw recovery: balance ' || cast(opening_balance as {{ dbt.type_string() }}) || ' owed, earnings of '
            || cast(earned_amount as {{ dbt.type_string() }}) || ' above the draw recover '
            || cast(draw_recovered as {{ dbt.type_string() }}),
        currency_code
    from {{ ref('int_draw_lines_settled') }}
    where draw_recovered <> 0 and {{ in_payout_scope('employee_id', 'period_month') }}
),

balances as (
    {#- a negative month is brought to 0 and its shortfall carried; later months recover it
        (int_payout_balances_carried) -#}
    select
        employee_id,
        period_month,
        case when balance_change_amount > 0 then 'balance_carried_forward' else 'balance_recovery' end as line_type,
        balance_change_amount as amount,
        case
            when balance_change_amount > 0 then
                'negative balance: the month nets ' || cast(net_before_balance_amount as {{ dbt.type_string() }})
                || ': ' || cast(balance_change_amount as {{ dbt.type_string() }}) || ' is not paid now'
                || case settlement
                    when 'write_off' then '; the rep left on ' || cast(termination_date as {{ dbt.type_string() }})
                        || ', so the balance of ' || cast(settled_amount as {{ dbt.type_string() }})
                        || ' is written off'
                    when 'collect' then '; the rep left on ' || cast(termination_date as {{ dbt.type_string() }})
                        || ', so the balance of ' || cast(settled_amount as {{ dbt.type_string() }})
                        || ' is reported for collection'
                    else ' but carried forward (balance ' || cast(opening_balance_amount + balance_change_amount
                        as {{ dbt.type_string() }}) || ') and recovered from later months'' pay'
                end
            else
                'balance recovery: ' || cast(-balance_change_amount as {{ dbt.type_string() }}) || ' of the '
                || cast(opening_balance_amount as {{ dbt.type_string() }})
                || ' carried from earlier months, recovered from this month''s net of '
                || cast(net_before_balance_amount as {{ dbt.type_string() }})
        end as rule_applied,
        currency_code
    from {{ ref('int_payout_balances_carried') }}
    where not is_closed and balance_change_amount <> 0 and {{ in_payout_scope('employee_id', 'period_month') }}
),

open_lines as (
    select
        payout_line_key, period_month, employee_id, deal_id, plan_version_key, component_id, line_type, credit_type,
        credit_pct, credited_amount, band_amount, tier_number, rate, rule_applied, amount, currency_code,
        corrects_period_month, corrects_deal_id
    from {{ ref('int_payout_lines_computed') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
    union all
    select
        payout_line_key, period_month, employee_id, deal_id, plan_version_key, component_id, line_type, credit_type,
        cast(null as decimal(9, 4)), cast(null as decimal(18, 2)), cast(null as decimal(18, 2)), cast(null as integer),
        cast(null as decimal(9, 6)), rule_applied, amount, currency_code, corrects_period_month, corrects_deal_id
    from adjustments
    union all
    select
        {{ payout_line_key('employee_id', 'period_month', 'line_type', 'component_id', 'cast(null as varchar)',
            'cast(null as varchar)', 'cast(null as integer)', 'cast(null as varchar)') }},
        period_month, employee_id, cast(null as {{ dbt.type_string() }}), plan_version_key, component_id, line_type,
        cast(null as {{ dbt.type_string() }}), cast(null as decimal(9, 4)), cast(null as decimal(18, 2)),
        cast(null as decimal(18, 2)), cast(null as integer), cast(null as decimal(9, 6)), rule_applied,
        cast(amount as decimal(18, 2)),
        currency_code, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    from draws
    union all
    select
        {#- one balance per rep, month and currency: the currency is in the key #}
        {{ dbt.concat(['employee_id', "'|'", 'period_month', "'|'", 'line_type', "'|'", 'currency_code']) }},
        period_month, employee_id, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), line_type, cast(null as {{ dbt.type_string() }}),
        cast(null as decimal(9, 4)), cast(null as decimal(18, 2)), cast(null as decimal(18, 2)), cast(null as integer),
        cast(null as decimal(9, 6)), rule_applied, cast(amount as decimal(18, 2)), currency_code,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    from balances
    union all
    select
        payout_line_key, period_month, employee_id, deal_id, plan_version_key, component_id, line_type, credit_type,
        cast(null as decimal(9, 4)), cast(null as decimal(18, 2)), cast(null as decimal(18, 2)), cast(null as integer),
        cast(null as decimal(9, 6)), rule_applied, cast(amount as decimal(18, 2)), currency_code, corrects_period_month,
        corrects_deal_id
    from {{ ref('int_manual_adjustments_posted') }}
    where {{ in_payout_scope('employee_id', 'period_month') }}
),

published as (
    select * from closed_lines
    union all
    select
        open_lines.payout_line_key, open_lines.period_month,
        cast({{ parse_date("open_lines.period_month || '-01'") }} as date) as period_start_date,
        open_lines.employee_id, open_lines.deal_id, open_lines.plan_version_key, open_lines.component_id,
        open_lines.line_type, open_lines.credit_type, open_lines.credit_pct, open_lines.credited_amount,
        open_lines.band_amount, open_lines.tier_number, open_lines.rate, open_lines.rule_applied, open_lines.amount, open_lines.currency_code,
        open_lines.corrects_period_month, open_lines.corrects_deal_id,
        open_periods.period_status, cast(null as integer), cast(null as timestamp),
        cast(null as {{ dbt.type_string() }}), cast(null as date), cast(null as decimal(18, 2)),
        cast(null as {{ dbt.type_string() }}), cast(null as integer)
        {%- for column, type in provenance.items() %}, cast(null as {{ type }}){% endfor %}
    from open_lines
    inner join open_periods on open_lines.period_month = open_periods.period_month
),

split_rows as (
    -- the split row a credit relied on (one per deal, employee and type; a repeated row names the first)
    select deal_id, employee_id, split_type, min(_source_file) as _source_file, min(_source_line) as _source_line
    from {{ ref('stg_plans__credit_splits') }}
    group by deal_id, employee_id, split_type
),

quota_rows as (
    select employee_id, period_month, min(_source_file) as _source_file, min(_source_line) as _source_line
    from {{ ref('stg_plans__quotas') }}
    group by employee_id, period_month
),

versions as (
    select
        published.payout_line_key,
        reps.rep_version_key,
        row_number() over (partition by published.payout_line_key order by reps.valid_from desc) as recency
    from published
    inner join {{ ref('dim_reps') }} as reps
        on published.employee_id = reps.employee_id
        and reps.valid_from <= {{ dbt.last_day('published.period_start_date', 'month') }}
)

select
    published.payout_line_key,
    published.period_month,
    cast(published.period_start_date as date) as period_start_date,
    published.employee_id,
    versions.rep_version_key,
    published.deal_id,
    published.plan_version_key,
    published.component_id,
    published.line_type,
    published.credit_type,
    cast(published.credit_pct as decimal(9, 4)) as credit_pct,
    cast(published.credited_amount as decimal(18, 2)) as credited_amount,
    cast(published.band_amount as decimal(18, 2)) as band_amount,
    cast(published.tier_number as integer) as tier_number,
    cast(published.rate as decimal(9, 6)) as rate,
    published.rule_applied,
    cast(published.amount as decimal(18, 2)) as amount,
    published.currency_code,
    published.corrects_period_month,
    published.corrects_deal_id,
    published.period_status,
    cast(published.ledger_version as integer) as ledger_version,
    cast(published.closed_at as timestamp) as closed_at,
    {#- a closed line keeps the deal as it was at close, nulls included; only a line frozen before
        the ledger kept the deal (no version, no file) shows today's -#}
    {%- set todays_deal = "(published.period_status <> 'closed' or (published.deal_updated_at is null and published.deal_source_file is null and published.deal_amount is null))" %}
    case when {{ todays_deal }} then deals.deal_name else published.deal_name end as deal_name,
    cast(case when {{ todays_deal }} then deals.close_date else published.deal_close_date end as date) as deal_close_date,
    cast(case when {{ todays_deal }} then deals.amount else published.deal_amount end as decimal(18, 2)) as deal_amount,
    case when {{ todays_deal }} then deals.currency_code else published.deal_currency_code end as deal_currency_code,
    cast(case when {{ todays_deal }} then deals.contract_term_months else published.deal_contract_term_months end
        as integer) as deal_contract_term_months,
    {%- for column, type in provenance.items() %}
    cast(case when published.period_status = 'closed' then published.{{ column }} else {{ today[column] }} end
        as {{ type }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from published
left join {{ ref('fct_deals') }} as deals
    on coalesce(published.deal_id, published.corrects_deal_id) = deals.deal_id
left join {{ ref('stg_crm__deals') }} as deal_versions
    on coalesce(published.deal_id, published.corrects_deal_id) = deal_versions.deal_id
left join {{ ref('fct_credits') }} as credits
    on published.deal_id = credits.deal_id
    and published.employee_id = credits.employee_id
    and published.credit_type = credits.credit_type
left join split_rows as splits
    on published.deal_id = splits.deal_id
    and published.employee_id = splits.employee_id
    and published.credit_type = splits.split_type
left join quota_rows as quotas
    on published.employee_id = quotas.employee_id
    and coalesce(published.corrects_period_month, published.period_month) = quotas.period_month
    and published.line_type in ('commission', 'multiplier', 'spif', 'clawback', 'adjustment')
left join {{ ref('stg_plans__plan_tiers') }} as tiers
    on {{ dbt.concat(['published.plan_version_key', "'|'", 'published.component_id']) }} = tiers.plan_component_key
    and published.tier_number = tiers.tier_number
left join {{ ref('stg_plans__plan_components') }} as components
    on published.plan_version_key = components.plan_version_key
    and published.component_id = components.component_id
    and published.tier_number is null
left join {{ ref('int_manual_adjustments_posted') }} as manual
    on published.payout_line_key = manual.payout_line_key
left join versions
    on published.payout_line_key = versions.payout_line_key
    and versions.recency = 1
