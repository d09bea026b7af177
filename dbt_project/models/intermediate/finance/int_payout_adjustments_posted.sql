{{ config(materialized='incremental', incremental_strategy='payout_scope', on_schema_change='append_new_columns') }}
{#-
  Corrections to closed periods. For every closed period, what today's data computes (per
  employee, deal, component and credit type) is compared with what the ledger paid for it: the
  period's own frozen lines plus adjustments already closed in later periods that correct it.
  Any difference is posted as one adjustment line in the first open period, referencing the
  period and deal it corrects; the closed lines themselves are never touched. Draws and carried
  balances are settled at close and not re-adjusted; manual adjustments are finance's own
  decisions, never recomputed.
  The rule text says why (the audit trail): each input that differs between the closed
  computation (the period's frozen lines, and the month head frozen with them) and today's, with
  both values: the deal's amount, close date, stage and version (file and line), the credit share,
  the plan version, the quota and attainment; a deal the closed computation did not have names
  when and from where it was first loaded, after the period was closed. It is frozen with the line
  when its period closes.
-#}
{%- set text = dbt.type_string() %}
with periods as (
    select period_month, period_status, closed_version, closed_at, first_open_period_month
    from {{ ref('int_payout_periods_classified') }}
),

ledger as (
    select lines.*
    from {{ source('ledger', 'payout_lines') }} as lines
    inner join periods
        on lines.period_month = periods.period_month
        and lines.ledger_version = periods.closed_version
    where periods.period_status = 'closed' and {{ in_payout_scope('lines.employee_id') }}
),

paid as (
    select
        employee_id,
        case when line_type = 'adjustment' then corrects_period_month else period_month end as attributed_period_month,
        coalesce(case when line_type = 'adjustment' then corrects_deal_id else deal_id end, '-') as deal_key,
        coalesce(component_id, '-') as component_key,
        coalesce(credit_type, '-') as credit_type_key,
        currency_code,
        sum(amount) as paid_amount
    from ledger
    where line_type not in ('draw', 'draw_recovery', 'balance_carried_forward', 'balance_recovery', 'manual_adjustment')
    group by 1, 2, 3, 4, 5, 6
),

computed as (
    select
        computed.employee_id,
        computed.period_month as attributed_period_month,
        coalesce(computed.deal_id, '-') as deal_key,
        coalesce(computed.component_id, '-') as component_key,
        coalesce(computed.credit_type, '-') as credit_type_key,
        computed.currency_code,
        sum(computed.amount) as computed_amount,
        max(computed.plan_version_key) as plan_version_key,
        max(computed.credit_pct) as credit_pct
    from {{ ref('int_payout_lines_computed') }} as computed
    inner join periods on computed.period_month = periods.period_month
    where periods.period_status = 'closed' and {{ in_payout_scope('computed.employee_id') }}
    group by 1, 2, 3, 4, 5, 6
),

compared as (
    select
        coalesce(computed.employee_id, paid.employee_id) as employee_id,
        coalesce(computed.attributed_period_month, paid.attributed_period_month) as corrects_period_month,
        coalesce(computed.deal_key, paid.deal_key) as deal_key,
        coalesce(computed.component_key, paid.component_key) as component_key,
        coalesce(computed.credit_type_key, paid.credit_type_key) as credit_type_key,
        coalesce(computed.currency_code, paid.currency_code) as currency_code,
        computed.plan_version_key,
        computed.credit_pct as current_credit_pct,
        computed.deal_key is not null as is_computed_today,
        coalesce(computed.computed_amount, 0) as computed_amount,
        coalesce(paid.paid_amount, 0) as paid_amount
    from computed
    full outer join paid
        on computed.employee_id = paid.employee_id
        and computed.attributed_period_month = paid.attributed_period_month
        and computed.deal_key = paid.deal_key
        and computed.component_key = paid.component_key
        and computed.credit_type_key = paid.credit_type_key
        and computed.currency_code = paid.currency_code
),

closed_inputs as (
    -- the closed computation's inputs per key: the corrected period's own frozen lines
    select
        ledger.employee_id,
        ledger.period_month as attributed_period_month,
        coalesce(ledger.deal_id, '-') as deal_key,
        coalesce(ledger.component_id, '-') as component_key,
        coalesce(ledger.credit_type, '-') as credit_type_key,
        ledger.currency_code,
        max(ledger.deal_amount) as deal_amount,
        max(ledger.deal_currency_code) as deal_currency_code,
        max(ledger.deal_close_date) as deal_close_date,
        max(ledger.deal_stage_id) as deal_stage_id,
        max(ledger.deal_updated_at) as deal_updated_at,
        max(ledger.deal_source_file || ':' || cast(ledger.deal_source_line as {{ text }})) as deal_source,
        max(ledger.credit_pct) as credit_pct,
        max(ledger.plan_version_key) as plan_version_key
    from ledger
    where ledger.line_type in ('commission', 'multiplier', 'spif', 'clawback')
    group by 1, 2, 3, 4, 5, 6
),

deal_versions as (
    select
        deals.deal_id, deals.amount, deals.currency_code, deals.close_date, deals.deal_stage_id,
        staged.updated_at, staged._source_file || ':' || cast(staged._source_line as {{ text }}) as source,
        {{ dlt_load_time('staged._dlt_load_id') }} as loaded_at
    from {{ ref('fct_deals') }} as deals
    inner join {{ ref('stg_crm__deals') }} as staged on deals.deal_id = staged.deal_id
),

closed_heads as (
    select summaries.employee_id, summaries.period_month, summaries.currency_code, summaries.quota_amount,
        summaries.attainment
    from {{ source('ledger', 'period_summaries') }} as summaries
    inner join periods
        on summaries.period_month = periods.period_month
        and summaries.ledger_version = periods.closed_version
    where periods.period_status = 'closed'
),

current_heads as (
    select segments.employee_id, segments.period_month, segments.currency_code,
        sum(segments.segment_quota_amount) as quota_amount, max(credited.credited_amount) as credited_amount
    from {{ ref('int_plan_segments_dated') }} as segments
    inner join periods on segments.period_month = periods.period_month and periods.period_status = 'closed'
    left join (
        select employee_id, period_month, currency_code, sum(credited_amount) as credited_amount
        from {{ ref('fct_credits') }}
        where is_on_plan and credit_type = 'revenue'
        group by employee_id, period_month, currency_code
    ) as credited
        on segments.employee_id = credited.employee_id
        and segments.period_month = credited.period_month
        and segments.currency_code = credited.currency_code
    group by segments.employee_id, segments.period_month, segments.currency_code
),

closed_deals as (
    -- the deals each rep's closed computation of a month had, under any component
    select employee_id, period_month, deal_id,
        max(case when deal_updated_at is not null or deal_source_file is not null then 1 else 0 end) = 1
            as has_version
    from ledger
    where deal_id is not null and line_type in ('commission', 'multiplier', 'spif', 'clawback')
    group by employee_id, period_month, deal_id
),

explained as (
    select
        compared.*,
        {%- set changes = [
            ("closed_deals.deal_id is null and deal_versions.deal_id is not null",
             "'deal ' || compared.deal_key || ' not in the closed computation: its version now is from '
                || coalesce(deal_versions.source, 'an unknown file') || ' (loaded '
                || coalesce(cast(deal_versions.loaded_at as " ~ text ~ "), 'at an unknown time') || '), close date '
                || coalesce(cast(deal_versions.close_date as " ~ text ~ "), 'none') || '; '
                || compared.corrects_period_month || ' was closed on ' || cast(periods_closed.closed_at as " ~ text ~ ")"),
            ("closed_deals.deal_id is not null and closed_inputs.deal_key is null",
             "'component ' || compared.component_key || ' did not apply to deal ' || compared.deal_key || ' at close'"),
            ("closed_deals.deal_id is not null and not closed_deals.has_version",
             "'closed before the ledger kept deal versions: the inputs then are not recorded'"),
            ("closed_inputs.deal_key is not null and not compared.is_computed_today",
             "'no longer computed for this rep in ' || compared.corrects_period_month || ' (deal, credit or plan changed)'"),
            ("closed_inputs.deal_amount is distinct from deal_versions.amount and closed_inputs.deal_key is not null and closed_deals.has_version",
             "'deal amount ' || coalesce(cast(closed_inputs.deal_amount as " ~ text ~ "), 'none') || ' -> '
                || coalesce(cast(deal_versions.amount as " ~ text ~ "), 'none')"),
            ("closed_inputs.deal_close_date is distinct from deal_versions.close_date and closed_inputs.deal_key is not null and closed_deals.has_version",
             "'close date ' || coalesce(cast(closed_inputs.deal_close_date as " ~ text ~ "), 'none') || ' -> '
                || coalesce(cast(deal_versions.close_date as " ~ text ~ "), 'none')"),
            ("closed_inputs.deal_stage_id is distinct from deal_versions.deal_stage_id and closed_inputs.deal_key is not null and closed_deals.has_version",
             "'stage ' || coalesce(closed_inputs.deal_stage_id, 'none') || ' -> ' || coalesce(deal_versions.deal_stage_id, 'none')"),
            ("closed_inputs.credit_pct is distinct from compared.current_credit_pct and closed_inputs.deal_key is not null and compared.is_computed_today",
             "'credit share ' || coalesce(cast(closed_inputs.credit_pct as " ~ text ~ "), 'none') || '% -> '
                || coalesce(cast(compared.current_credit_pct as " ~ text ~ "), 'none') || '%'"),
            ("closed_inputs.plan_version_key is distinct from compared.plan_version_key and closed_inputs.deal_key is not null and compared.is_computed_today",
             "'plan ' || coalesce(closed_inputs.plan_version_key, 'none') || ' -> ' || coalesce(compared.plan_version_key, 'none')"),
            ("closed_heads.employee_id is not null and closed_heads.quota_amount is distinct from current_heads.quota_amount",
             "'quota ' || coalesce(cast(closed_heads.quota_amount as " ~ text ~ "), 'none') || ' -> '
                || coalesce(cast(current_heads.quota_amount as " ~ text ~ "), 'none')"),
            ("closed_heads.employee_id is not null and closed_heads.attainment is distinct from cast(case when current_heads.quota_amount > 0 then coalesce(current_heads.credited_amount, 0) / current_heads.quota_amount end as decimal(18, 4))",
             "'attainment ' || coalesce(cast(closed_heads.attainment as " ~ text ~ "), 'none') || ' -> '
                || coalesce(cast(cast(case when current_heads.quota_amount > 0 then coalesce(current_heads.credited_amount, 0)
                    / current_heads.quota_amount end as decimal(18, 4)) as " ~ text ~ "), 'none')"),
            ("closed_inputs.deal_key is not null and closed_inputs.deal_updated_at is distinct from deal_versions.updated_at and closed_deals.has_version",
             "'deal version ' || coalesce(cast(closed_inputs.deal_updated_at as " ~ text ~ "), 'unknown') || ' ('
                || coalesce(closed_inputs.deal_source, 'no file recorded') || ') -> '
                || coalesce(cast(deal_versions.updated_at as " ~ text ~ "), 'none') || ' ('
                || coalesce(deal_versions.source, 'no file') || ')'"),
        ] %}
        {%- set parts = [] %}
        {%- for condition, message in changes %}
            {%- do parts.append("coalesce(case when " ~ condition ~ " then " ~ message ~ " || '; ' end, '')") %}
        {%- endfor %}
        {{ dbt.concat(parts) }} as changes_text
    from compared
    left join closed_inputs
        on compared.employee_id = closed_inputs.employee_id
        and compared.corrects_period_month = closed_inputs.attributed_period_month
        and compared.deal_key = closed_inputs.deal_key
        and compared.component_key = closed_inputs.component_key
        and compared.credit_type_key = closed_inputs.credit_type_key
        and compared.currency_code = closed_inputs.currency_code
    left join deal_versions on compared.deal_key = deal_versions.deal_id
    left join closed_heads
        on compared.employee_id = closed_heads.employee_id
        and compared.corrects_period_month = closed_heads.period_month
        and compared.currency_code = closed_heads.currency_code
    left join current_heads
        on compared.employee_id = current_heads.employee_id
        and compared.corrects_period_month = current_heads.period_month
        and compared.currency_code = current_heads.currency_code
    left join closed_deals
        on compared.employee_id = closed_deals.employee_id
        and compared.corrects_period_month = closed_deals.period_month
        and compared.deal_key = closed_deals.deal_id
    left join (select period_month, closed_at from periods) as periods_closed
        on compared.corrects_period_month = periods_closed.period_month
    where compared.computed_amount <> compared.paid_amount
)

select
    compared.employee_id,
    first_open.first_open_period_month as period_month,
    case when compared.deal_key = '-' then null else compared.deal_key end as deal_id,
    compared.plan_version_key,
    case when compared.component_key = '-' then null else compared.component_key end as component_id,
    'adjustment' as line_type,
    case when compared.credit_type_key = '-' then null else compared.credit_type_key end as credit_type,
    cast(compared.computed_amount - compared.paid_amount as decimal(18, 2)) as amount,
    'adjustment: closed ' || compared.corrects_period_month || ' paid '
        || cast(compared.paid_amount as {{ dbt.type_string() }}) || ', today''s data computes '
        || cast(compared.computed_amount as {{ dbt.type_string() }})
        || case when compared.changes_text <> '' then ' (' || rtrim(compared.changes_text, '; ') || ')' else '' end
        as rule_applied,
    compared.currency_code,
    compared.corrects_period_month,
    case when compared.deal_key = '-' then null else compared.deal_key end as corrects_deal_id
from explained as compared
cross join (select distinct first_open_period_month from periods) as first_open
where compared.computed_amount <> compared.paid_amount
    and {{ in_payout_scope('compared.employee_id', 'first_open.first_open_period_month') }}
