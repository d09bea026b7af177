{#-
  Disputes and manual adjustments as finance keeps them (plans/manual_adjustments, optional), one
  row per line of the register, typed: codes trimmed and lower-cased, money as DECIMAL with its
  currency, dates parsed. Nothing is dropped here: a malformed value stays null beside its raw
  text and int_plan_rule_violations reports it with file and line. pay_period_month is the period
  the adjustment is paid in: pay_period, or the month of approved_on when pay_period is blank.
-#}
with adjustments as (
    select
        trim(adjustment_id) as adjustment_id,
        trim(employee_id) as employee_id,
        trim(amount) as amount_raw,
        upper(trim(currency)) as currency_code,
        lower(trim(category)) as category,
        trim(reason) as reason,
        trim(requested_by) as requested_by,
        trim(requested_on) as requested_on_raw,
        lower(trim(status)) as status,
        nullif(trim(approved_by), '') as approved_by,
        nullif(trim(approved_on), '') as approved_on_raw,
        nullif(trim(pay_period), '') as pay_period,
        nullif(trim(corrects_period), '') as corrects_period,
        nullif(trim(deal_id), '') as deal_id,
        _source_file,
        _source_line,
        _dlt_load_id
    from {{ source('plans', 'manual_adjustments') }}
),

typed as (
    select
        adjustments.*,
        {{ parse_decimal('amount_raw') }} as amount,
        {{ parse_date('requested_on_raw') }} as requested_on,
        {{ parse_date('approved_on_raw') }} as approved_on,
        case when length(pay_period) = 7 then {{ parse_date("pay_period || '-01'") }} end as pay_period_start_date,
        case when length(corrects_period) = 7 then {{ parse_date("corrects_period || '-01'") }} end
            as corrects_period_start_date
    from adjustments
)

select
    {{ dbt.concat(['_source_file', "':'", dbt.cast('_source_line', dbt.type_string())]) }} as manual_adjustment_line_key,
    adjustment_id,
    employee_id,
    amount_raw,
    amount,
    currency_code,
    category,
    reason,
    requested_by,
    requested_on_raw,
    requested_on,
    status,
    approved_by,
    approved_on_raw,
    approved_on,
    pay_period,
    case
        when pay_period is null then {{ month_label('approved_on') }}
        when pay_period_start_date is not null then {{ month_label('pay_period_start_date') }}
    end as pay_period_month,
    corrects_period,
    case when corrects_period_start_date is not null then {{ month_label('corrects_period_start_date') }} end
        as corrects_period_month,
    deal_id,
    _source_file,
    cast(_source_line as {{ dbt.type_bigint() }}) as _source_line,
    _dlt_load_id
from typed
