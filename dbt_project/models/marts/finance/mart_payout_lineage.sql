{#-
  The audit trail of every payout line (`spm explain` prints it): one row per line of
  fct_payouts with the chain that produced it. The deal version it was computed from (the CRM
  record's updatedAt) with the landing file and line (or API delivery) and the dlt load that wrote
  it, and when that load ran; the credit share and how it was credited, with the split row's file
  and line; the quota and attainment of the month the line was computed in (the month head, frozen
  for a closed month) with the quota row's file and line; the band, rate and rule with the plan
  file, line and YAML path (or the register line of a manual adjustment). A closed line shows
  what was frozen with it at close. An adjustment's rule_applied names each input that differed
  between the closed computation and today's, with both values. statement_reference is the
  short reference a statement prints beside a deal line: deal id @ version date.
-#}
with lines as (
    select
        payout_line_key, period_month, employee_id, line_type, component_id, deal_id, corrects_period_month,
        corrects_deal_id, amount, currency_code, period_status, ledger_version, closed_at, deal_name, deal_amount,
        deal_currency_code, deal_close_date, deal_stage_id, deal_updated_at, deal_source_file, deal_source_line,
        deal_load_id, credit_type, credit_source, credit_pct, credited_amount, split_source_file, split_source_line,
        quota_source_file, quota_source_line, plan_version_key, tier_number, band_amount, rate, rule_applied,
        rule_source_file, rule_source_line, rule_source_location
    from {{ ref('fct_payouts') }}
),

heads as (
    select employee_id, period_month, currency_code, rep_name, quota_amount, attainment
    from {{ ref('mart_commissions_monthly') }}
)

select
    lines.payout_line_key,
    lines.period_month,
    lines.employee_id,
    names.rep_name,
    lines.line_type,
    lines.component_id,
    coalesce(lines.deal_id, lines.corrects_deal_id) as deal_id,
    lines.corrects_period_month,
    lines.amount,
    lines.currency_code,
    lines.period_status,
    lines.ledger_version,
    lines.closed_at,
    lines.deal_name,
    lines.deal_amount,
    lines.deal_currency_code,
    lines.deal_close_date,
    lines.deal_stage_id,
    lines.deal_updated_at,
    lines.deal_source_file,
    lines.deal_source_line,
    lines.deal_load_id,
    cast({{ dlt_load_time('lines.deal_load_id') }} as timestamp) as deal_loaded_at,
    lines.credit_type,
    lines.credit_source,
    lines.credit_pct,
    lines.credited_amount,
    lines.split_source_file,
    lines.split_source_line,
    heads.quota_amount,
    heads.attainment,
    lines.quota_source_file,
    lines.quota_source_line,
    lines.plan_version_key,
    lines.tier_number,
    lines.band_amount,
    lines.rate,
    lines.rule_applied,
    lines.rule_source_file,
    lines.rule_source_line,
    lines.rule_source_location,
    {{ statement_reference('coalesce(lines.deal_id, lines.corrects_deal_id)', 'lines.deal_updated_at') }}
        as statement_reference
from lines
left join heads
    on lines.employee_id = heads.employee_id
    and coalesce(lines.corrects_period_month, lines.period_month) = heads.period_month
    and lines.currency_code = heads.currency_code
left join (select employee_id, max(rep_name) as rep_name from heads group by employee_id) as names
    on lines.employee_id = names.employee_id
