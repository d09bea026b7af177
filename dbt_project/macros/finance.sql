{#- Macros of the commission engine. -#}

{#- A date's month as 'YYYY-MM', the period label finance uses. -#}
{% macro month_label(date_expression) -%}
    substring(cast({{ date_expression }} as {{ dbt.type_string() }}), 1, 7)
{%- endmacro %}

{#-
  The append-only ledger of closed commission periods. dbt creates the tables on every run (if
  missing) so that models can read them before the first close; only `spm close-period` /
  `spm reopen-period` (finance/ledger.py, through close_period_job) write to them, and nothing ever updates or deletes a
  row. The payout_lines columns are fct_payouts' line columns plus the version and close time.
  band_amount (the part of the credit inside the line's band), the deal_* columns (the deal a line
  pays as it was at close) and the provenance columns (deal version and its file, line and load;
  credit source and split row; quota row; plan or register line: the audit trail) came later: a ledger made before them gets the columns, empty for the
  lines it had already frozen. period_summaries keeps, per closed version, each rep's month head as
  it was closed (plan, credited bookings, quota, attainment), so the monthly mart and the statements
  of a closed period never change when today's data recomputes it (a close before it existed has no
  summary rows: those months show today's values).
-#}
{% macro create_ledger_tables() -%}
    create schema if not exists {{ ledger_schema() }};
    create table if not exists {{ ledger_schema() }}.payout_lines (
        payout_line_key varchar not null,
        period_month varchar not null,
        period_start_date date not null,
        employee_id varchar not null,
        deal_id varchar,
        plan_version_key varchar,
        component_id varchar,
        line_type varchar not null,
        credit_type varchar,
        credit_pct decimal(9, 4),
        credited_amount decimal(18, 2),
        tier_number integer,
        rate decimal(9, 6),
        rule_applied varchar,
        amount decimal(18, 2) not null,
        currency_code varchar not null,
        corrects_period_month varchar,
        corrects_deal_id varchar,
        ledger_version integer not null,
        closed_at timestamp not null,
        band_amount decimal(18, 2)
    );
    alter table {{ ledger_schema() }}.payout_lines add column if not exists band_amount decimal(18, 2);
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_name varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_close_date date;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_amount decimal(18, 2);
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_currency_code varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_contract_term_months integer;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_stage_id varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_updated_at timestamp;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_source_file varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_source_line bigint;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists deal_load_id varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists credit_source varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists split_source_file varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists split_source_line bigint;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists quota_source_file varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists quota_source_line bigint;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists rule_source_file varchar;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists rule_source_line bigint;
    alter table {{ ledger_schema() }}.payout_lines add column if not exists rule_source_location varchar;
    create table if not exists {{ ledger_schema() }}.period_summaries (
        period_month varchar not null,
        ledger_version integer not null,
        employee_id varchar not null,
        currency_code varchar not null,
        plan_id varchar,
        plan_label varchar,
        credited_bookings_amount decimal(18, 2) not null,
        overlay_credit_amount decimal(18, 2) not null,
        quota_amount decimal(18, 2),
        attainment decimal(18, 4),
        closed_at timestamp not null
    );
    alter table {{ ledger_schema() }}.period_summaries add column if not exists opening_balance_amount decimal(18, 2);
    alter table {{ ledger_schema() }}.period_summaries add column if not exists closing_balance_amount decimal(18, 2);
    alter table {{ ledger_schema() }}.period_summaries add column if not exists balance_settled_amount decimal(18, 2);
    alter table {{ ledger_schema() }}.period_summaries add column if not exists balance_settlement varchar;
    create table if not exists {{ ledger_schema() }}.period_events (
        period_month varchar not null,
        ledger_version integer not null,
        action varchar not null,
        acted_at timestamp not null,
        acted_by varchar,
        reason varchar,
        line_count integer,
        net_amount decimal(18, 2)
    );
{%- endmacro %}

{% macro ledger_schema() -%}
    {{ var('ledger_schema', 'ledger') }}
{%- endmacro %}

{#- True when a credit's deal meets a multiplier's or SPIF's applies_to conditions (null = any). -#}
{% macro deal_meets_conditions(component, credit) -%}
    ({{ component }}.applies_to_deal_type is null or lower({{ credit }}.deal_type) = {{ component }}.applies_to_deal_type)
    and ({{ component }}.applies_to_pipeline_id is null or {{ credit }}.pipeline_id = {{ component }}.applies_to_pipeline_id)
    and ({{ component }}.applies_to_contract_term_months_min is null
        or {{ credit }}.contract_term_months >= {{ component }}.applies_to_contract_term_months_min)
{%- endmacro %}

{#- The readable key of a payout line: employee | period | line type | component | credit type | deal | band | corrected period. -#}
{% macro payout_line_key(employee, period, line_type, component, credit_type, deal, tier, corrects_period) -%}
    {{ dbt.concat([
        employee, "'|'", period, "'|'", line_type, "'|'", "coalesce(" ~ component ~ ", '-')", "'|'",
        "coalesce(" ~ credit_type ~ ", '-')", "'|'", "coalesce(" ~ deal ~ ", '-')", "'|'",
        "coalesce(" ~ dbt.cast(tier, dbt.type_string()) ~ ", '-')", "'|'", "coalesce(" ~ corrects_period ~ ", '-')"
    ]) }}
{%- endmacro %}

{#-
  The payout lines mart_commission_expense_schedule capitalises, with everything their schedule
  is computed from (ASC 340-40, see the model): commission, multiplier, SPIF and adjustment lines
  of a deal with a contract term over 12 months, paid no later than the deal's cancellation month.
  write_off_month is the cancellation month when it falls inside the line's schedule (the month
  the asset left is written off), else null. The model's post-hook uses it too, to delete the lines
  that are no longer capitalised. The term and close date are the line's own (fct_payouts: as the
  deal was at close for a closed line), so a closed month's schedule does not move when the deal's
  term is edited later; only a cancellation cuts it.
-#}
{% macro capitalised_payout_lines() -%}
    with deals as (
        select
            deal_id,
            cast({{ dbt.date_trunc('month', 'cast(cancelled_at as date)') }} as date) as cancelled_month
        from {{ ref('fct_deals') }}
    ),

    lines as (
        select
            lines.payout_line_key,
            lines.period_month,
            lines.period_start_date,
            lines.employee_id,
            coalesce(lines.deal_id, lines.corrects_deal_id) as deal_id,
            lines.line_type,
            cast(lines.amount as decimal(18, 2)) as amount,
            lines.currency_code,
            cast(lines.deal_contract_term_months as {{ dbt.type_bigint() }}) as contract_term_months,
            deals.cancelled_month,
            cast(greatest(1, lines.deal_contract_term_months - {{ dbt.datediff(dbt.date_trunc('month', 'lines.deal_close_date'), 'lines.period_start_date', 'month') }})
                as integer) as amortisation_months
        from {{ ref('fct_payouts') }} as lines
        inner join deals on coalesce(lines.deal_id, lines.corrects_deal_id) = deals.deal_id
        where lines.line_type in ('commission', 'multiplier', 'spif', 'adjustment')
            and lines.deal_contract_term_months > 12
            and lines.amount <> 0
            and (deals.cancelled_month is null or lines.period_start_date <= deals.cancelled_month)
    )

    select
        lines.*,
        case
            when lines.cancelled_month
                < cast({{ dbt.dateadd('month', 'lines.amortisation_months', 'lines.period_start_date') }} as date)
                then lines.cancelled_month
        end as write_off_month
    from lines
{%- endmacro %}

{#- Post-hook of mart_commission_expense_schedule: drop the schedules of lines that are no longer
    capitalised (a line gone from fct_payouts, a deal's term cut to 12 months or less, a line now
    paid after the deal's cancellation); an incremental build only replaces the lines it re-derives. -#}
{% macro delete_lines_no_longer_capitalised() -%}
    delete from {{ this }}
    where payout_line_key in (
        select payout_line_key from {{ this }} where month_number = 1
        except
        select payout_line_key from ({{ capitalised_payout_lines() }}) as capitalised
    )
{%- endmacro %}

{#- The FX rates with the months each applies to: a month's rate applies until the next month
    with a rate (the latest rate carries forward). Used by fct_deals and fct_credits. -#}
{% macro fx_rate_periods() -%}
    select
        currency_code,
        rate_to_reporting,
        period_start_date as valid_from,
        coalesce(
            lead(period_start_date) over (partition by currency_code order by period_start_date),
            cast('9999-12-31' as date)
        ) as valid_to
    from {{ ref('stg_plans__fx_rates') }}
{%- endmacro %}

{#-
  The go-live period of commissions, a SQL expression of type string 'YYYY-MM': var
  commission_go_live_month when set, else the first month of any plan segment (every period is
  then live). Periods before it are history: computed and shown, never closed or paid
  (int_payout_periods_classified; docs/commission_plans.md, "The close calendar").
-#}
{% macro commission_go_live_month() -%}
    {%- set configured = var('commission_go_live_month', none) -%}
    {%- if configured is none or (configured | string | trim) == '' -%}
        (select min(period_month) from {{ ref('int_plan_segments_dated') }})
    {%- else -%}
        {%- set text = configured | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var commission_go_live_month must be a month YYYY-MM (or blank for the first plan month), got '"
                ~ text ~ "'") }}
        {%- endif -%}
        '{{ text }}'
    {%- endif -%}
{%- endmacro %}

{#- When a dlt load happened (UTC): a dlt load id is the Unix time of the load's start, in seconds
    with a fraction ('1733011200.4418'); read to the second. -#}
{% macro dlt_load_time(load_id) -%}
    {{ dbt.dateadd(
        'second',
        'cast(floor(cast(' ~ load_id ~ ' as ' ~ dbt.type_float() ~ ')) as ' ~ dbt.type_bigint() ~ ')',
        "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")"
    ) }}
{%- endmacro %}

{#- The short reference a statement prints beside a deal line, which `spm explain --deal` resolves:
    deal id @ the deal version's date ('59999999@2025-02-10'); null for a line without a deal. -#}
{% macro statement_reference(deal_id, updated_at) -%}
    case when {{ deal_id }} is not null then
        {{ deal_id }} || '@' || coalesce(substring(cast({{ updated_at }} as {{ dbt.type_string() }}), 1, 10), 'unknown')
    end
{%- endmacro %}
