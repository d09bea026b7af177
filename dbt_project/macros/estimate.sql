{#-
  The what-if estimator's input (finance/estimate.py, `spm estimate`): hypothetical won deals added
  to a SCRATCH COPY of the warehouse, never to the warehouse itself. Called with
  `dbt run-operation estimate_add_hypothetical_deals --args '{deals: [...]}'` on the copy; the
  estimator then runs the commission models there (int_deal_credits_allocated on) and reads the
  rep's payout lines.

  Each deal is a dict: deal_id, deal_name, owner_id (the rep's CRM owner), close_date
  (YYYY-MM-DD), amount (a decimal string), currency_code, deal_type, pipeline_id,
  contract_term_months (or none), and split_pct (or none): a revenue split row for the rep at
  that share (none: the owner is credited at 100 %, as for any deal without split rows).

  The rows get the shape fct_deals gives a won deal: the owner's rep version on the close date
  (deal_rep_matches) and the reporting amount at the close month's FX rate (fx_rate_periods,
  deal_fx_matches), the macros fct_deals itself uses.
-#}
{% macro estimate_add_hypothetical_deals(deals) -%}
    {%- if deals | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for deal in deals -%}
        {%- set term = deal.get('contract_term_months') -%}
        {%- do rows.append(
            "select " ~ dbt.string_literal(deal['deal_id']) ~ " as deal_id, "
            ~ dbt.string_literal(deal['deal_name']) ~ " as deal_name, "
            ~ dbt.string_literal(deal['owner_id']) ~ " as owner_id, "
            ~ dbt.string_literal(deal['pipeline_id']) ~ " as pipeline_id, "
            ~ dbt.string_literal(deal['deal_type']) ~ " as deal_type, "
            ~ "cast(" ~ dbt.string_literal(deal['close_date']) ~ " as date) as close_date, "
            ~ "cast(" ~ dbt.string_literal(deal['amount']) ~ " as decimal(18, 2)) as amount, "
            ~ dbt.string_literal(deal['currency_code']) ~ " as currency_code, "
            ~ ("cast(null as integer)" if term is none else "cast(" ~ (term | int) ~ " as integer)")
            ~ " as contract_term_months"
        ) -%}
    {%- endfor -%}
    {%- set shaped -%}
        with hypothetical as (
            select
                deal_id, deal_name, owner_id, pipeline_id, deal_type, close_date, amount, currency_code,
                contract_term_months,
                cast(close_date as {{ dbt.type_timestamp() }}) as created_at,
                false as is_open
            from ({{ rows | join(' union all ') }}) as deals
        ),

        fx as (
            {{ fx_rate_periods() }}
        ),

        won_stages as (
            select pipeline_id, deal_stage_id, pipeline_stage_key, probability,
                row_number() over (partition by pipeline_id order by stage_order) as preference
            from {{ ref('dim_deal_stages') }}
            where is_won
        )

        select
            hypothetical.deal_id,
            hypothetical.deal_name,
            hypothetical.pipeline_id,
            won_stages.deal_stage_id,
            won_stages.pipeline_stage_key,
            hypothetical.owner_id,
            reps.rep_version_key,
            reps.employee_id,
            hypothetical.deal_type,
            hypothetical.created_at,
            hypothetical.close_date as created_date,
            hypothetical.created_at as closed_at,
            hypothetical.close_date,
            hypothetical.close_date as won_date,
            false as is_open,
            true as is_won,
            false as is_lost,
            true as was_won,
            false as is_cancelled,
            hypothetical.amount,
            hypothetical.currency_code,
            fx.rate_to_reporting,
            cast(round({{ wide_decimal('hypothetical.amount') }} * fx.rate_to_reporting, 2) as decimal(18, 2))
                as amount_reporting,
            '{{ var("reporting_currency") }}' as reporting_currency_code,
            won_stages.probability as stage_probability,
            hypothetical.contract_term_months,
            false as is_archived
        from hypothetical
        left join won_stages
            on hypothetical.pipeline_id = won_stages.pipeline_id
            and won_stages.preference = 1
        left join fx
            on {{ deal_fx_matches('hypothetical', 'fx') }}
        left join {{ ref('dim_reps') }} as reps
            on reps.owner_id is not null
            and {{ deal_rep_matches('hypothetical', 'reps') }}
    {%- endset -%}
    {#- a deal fct_deals could not hold (no won stage in its pipeline, no FX rate for its currency
        and close month) is refused, naming it, before anything is written -#}
    {%- set refused = run_query(
        "select deal_id, pipeline_id, currency_code, close_date, pipeline_stage_key is null as no_stage from ("
        ~ shaped ~ ") as shaped where pipeline_stage_key is null or amount_reporting is null order by deal_id"
    ) -%}
    {%- for row in refused.rows -%}
        {%- if row['no_stage'] -%}
            {{ exceptions.raise_compiler_error(row['deal_id'] ~ ': pipeline ' ~ row['pipeline_id'] ~ ' has no won stage (dim_deal_stages)') }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(row['deal_id'] ~ ': no FX rate for ' ~ row['currency_code'] ~ ' in the month of ' ~ row['close_date'] ~ ' (plans/fx_rates)') }}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query(
        "insert into " ~ ref('fct_deals') ~ " (deal_id, deal_name, pipeline_id, deal_stage_id, pipeline_stage_key,"
        ~ " owner_id, rep_version_key, employee_id, deal_type, created_at, created_date, closed_at, close_date, won_date,"
        ~ " is_open, is_won, is_lost, was_won, is_cancelled, amount, currency_code, rate_to_reporting, amount_reporting,"
        ~ " reporting_currency_code, stage_probability, contract_term_months, is_archived) " ~ shaped
    ) -%}
    {%- set splits = [] -%}
    {%- for deal in deals if deal.get('split_pct') is not none -%}
        {%- do splits.append(
            "select " ~ dbt.string_literal(deal['deal_id']) ~ ", employee_id, 'revenue', "
            ~ dbt.string_literal(deal['split_pct']) ~ ", 'what-if estimate', " ~ loop.index ~ ", '0'"
            ~ " from " ~ ref('dim_reps') ~ " where owner_id = " ~ dbt.string_literal(deal['owner_id'])
            ~ " and cast(" ~ dbt.string_literal(deal['close_date']) ~ " as date) >= valid_from"
            ~ " and cast(" ~ dbt.string_literal(deal['close_date']) ~ " as date) < valid_to"
        ) -%}
    {%- endfor -%}
    {%- if splits -%}
        {%- do run_query(
            "insert into " ~ source('plans', 'credit_splits')
            ~ " (deal_id, employee_id, split_type, split_pct, _source_file, _source_line, _dlt_load_id) "
            ~ (splits | join(' union all '))
        ) -%}
    {%- endif -%}
{%- endmacro %}
