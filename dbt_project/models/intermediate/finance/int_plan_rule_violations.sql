{{ config(materialized='view') }}
{#-
  Every broken rule in the sales-plan inputs, one row per violation, naming the rule, the plan
  (or rep / deal / adjustment), the file and line to fix (for a manual adjustment the location is
  the field). The data test plan_inputs_follow_the_rules fails when
  this has rows, and every commission model depends on this one, so `dbt build` skips them and
  no payout is published from an invalid plan.
-#}
with plans as (
    select * from {{ ref('stg_plans__commission_plans') }}
),

components as (
    select * from {{ ref('stg_plans__plan_components') }}
),

tiers as (
    select
        tiers.*,
        lag(tiers.to_attainment) over (partition by tiers.plan_component_key order by tiers.from_attainment, tiers.tier_number)
            as previous_to,
        row_number() over (partition by tiers.plan_component_key order by tiers.from_attainment, tiers.tier_number)
            as band_order,
        count(*) over (partition by tiers.plan_component_key) as band_count
    from {{ ref('stg_plans__plan_tiers') }} as tiers
),

assignments as (
    select
        assignments.*,
        lag(coalesce(assignments.effective_to, cast('9999-12-31' as date)))
            over (partition by assignments.employee_id order by assignments.effective_from, assignments.assignment_id)
            as previous_to,
        lag(assignments.assignment_id)
            over (partition by assignments.employee_id order by assignments.effective_from, assignments.assignment_id)
            as previous_assignment_id
    from {{ ref('stg_plans__plan_assignments') }} as assignments
),

employees as (
    select employee_id from {{ ref('stg_hris__employees') }}
),

splits as (
    select * from {{ ref('stg_plans__credit_splits') }}
),

adjustments as (
    select * from {{ ref('stg_plans__manual_adjustments') }}
),

-- approved adjustments with a well-formed pay period: those are paid, so the period must be payable
approved_adjustments as (
    select
        adjustments.*,
        cast({{ parse_date("adjustments.pay_period_month || '-01'") }} as date) as pay_period_start_date,
        cast({{ dbt.last_day(parse_date("adjustments.pay_period_month || '-01'"), 'month') }} as date)
            as pay_period_end_date
    from adjustments
    where adjustments.status = 'approved' and adjustments.pay_period_month is not null
),

-- the go-live month without int_plan_segments_dated (downstream of this model): the configured one,
-- else the first month of any plan segment as that model cuts them (assignment x version x employment)
go_live as (
    {%- set go_live_configured = (var('commission_go_live_month', none) or '') | string | trim != '' %}
    {%- if go_live_configured %}
    select {{ commission_go_live_month() }} as go_live_month
    {%- else %}
    select min({{ month_label('greatest(assignments.effective_from, plans.effective_from, employees.hire_date)') }})
        as go_live_month
    from {{ ref('stg_plans__plan_assignments') }} as assignments
    inner join plans on assignments.plan_id = plans.plan_id
    inner join {{ ref('stg_hris__employees') }} as employees on assignments.employee_id = employees.employee_id
    where greatest(assignments.effective_from, plans.effective_from, employees.hire_date)
        <= least(
            coalesce(assignments.effective_to, cast('9999-12-30' as date)),
            coalesce(plans.effective_to, cast('9999-12-30' as date)),
            coalesce(employees.termination_date, cast('9999-12-30' as date))
        )
    {%- endif %}
),

-- the plan currencies of each approved adjustment's rep in its pay period (every plan segment's)
adjustment_plan_currencies as (
    select distinct approved_adjustments.manual_adjustment_line_key, plans.currency_code
    from approved_adjustments
    inner join {{ ref('stg_plans__plan_assignments') }} as assignments
        on approved_adjustments.employee_id = assignments.employee_id
    inner join plans on assignments.plan_id = plans.plan_id
    inner join {{ ref('stg_hris__employees') }} as employees on assignments.employee_id = employees.employee_id
    where greatest(approved_adjustments.pay_period_start_date, assignments.effective_from, plans.effective_from,
            employees.hire_date)
        <= least(
            approved_adjustments.pay_period_end_date,
            coalesce(assignments.effective_to, cast('9999-12-30' as date)),
            coalesce(plans.effective_to, cast('9999-12-30' as date)),
            coalesce(employees.termination_date, cast('9999-12-30' as date))
        )
),

-- closed periods, read from the ledger itself (the period classification is downstream of this model)
closed_periods as (
    select period_month, ledger_version
    from (
        select
            period_month,
            ledger_version,
            action,
            row_number() over (partition by period_month order by acted_at desc, ledger_version desc) as recency
        from {{ source('ledger', 'period_events') }}
    ) as events
    where recency = 1 and action = 'close'
),

-- the adjustment lines frozen in the current closed version of their period
frozen_adjustments as (
    select lines.payout_line_key, lines.amount, lines.currency_code
    from {{ source('ledger', 'payout_lines') }} as lines
    where lines.line_type = 'manual_adjustment'
        and exists (
            select 1 from closed_periods
            where closed_periods.period_month = lines.period_month
                and closed_periods.ledger_version = lines.ledger_version
        )
),

approved_in_closed_periods as (
    select approved_adjustments.*, frozen_adjustments.payout_line_key as frozen_line_key,
        frozen_adjustments.amount as frozen_amount, frozen_adjustments.currency_code as frozen_currency_code
    from approved_adjustments
    inner join closed_periods on approved_adjustments.pay_period_month = closed_periods.period_month
    left join frozen_adjustments
        on frozen_adjustments.payout_line_key = {{ manual_adjustment_line_key(
            'approved_adjustments.employee_id', 'approved_adjustments.pay_period_month',
            'approved_adjustments.adjustment_id') }}
),

adjustment_ids as (
    select adjustment_id, _source_line,
        min(_source_line) over (partition by adjustment_id) as first_line,
        count(*) over (partition by adjustment_id) as id_count
    from adjustments
),

-- the required plan inputs (stg_plans__snapshot_files.is_required) and how many rows their snapshot has
required_inputs as (
    select files.entity, files._source_file, counted.row_count
    from {{ ref('stg_plans__snapshot_files') }} as files
    inner join (
        select 'quotas' as entity, count(*) as row_count from {{ ref('stg_plans__quotas') }}
        union all
        select 'plan_assignments', count(*) from {{ ref('stg_plans__plan_assignments') }}
        union all
        select 'commission_plans', count(*) from {{ ref('stg_plans__commission_plans') }}
    ) as counted on files.entity = counted.entity
    where files.is_required
),

violations as (
    -- plan versions
    select 'plan_period_unsupported' as rule, plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_version_key as record_key, 'period ' || plan_period || ' is not supported (month only)' as detail
    from plans where plan_period <> 'month'
    union all
    select 'plan_dates_out_of_order', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_version_key, 'effective_to is before effective_from'
    from plans where effective_to < effective_from
    union all
    select 'plan_versions_overlap', later.plan_id, later.plan_version, later._source_file, later._source_line,
        later._source_location, later.plan_version_key,
        'version ' || cast(later.plan_version as {{ dbt.type_string() }}) || ' overlaps version '
            || cast(earlier.plan_version as {{ dbt.type_string() }})
    from plans as later
    inner join plans as earlier
        on later.plan_id = earlier.plan_id
        and later.plan_version > earlier.plan_version
        and later.effective_from <= coalesce(earlier.effective_to, cast('9999-12-31' as date))
        and earlier.effective_from <= coalesce(later.effective_to, cast('9999-12-31' as date))
    union all
    select 'plan_without_currency', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_version_key, 'currency is missing'
    from plans where currency_code is null or currency_code = ''
    union all
    select 'clawback_window_negative', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_version_key, 'clawback_window_days is negative'
    from plans where clawback_window_days < 0
    union all
    select 'rate_unit_unknown', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_version_key, 'rate_unit ' || rate_unit || ' is not fraction or percent'
    from plans where rate_unit not in ('fraction', 'percent')
    union all
    -- components
    select 'component_type_unknown', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'type ' || coalesce(component_type, '(missing)') || ' is not rate_table, multiplier, spif or draw'
    from components where coalesce(component_type, '') not in ('rate_table', 'multiplier', 'spif', 'draw')
    union all
    select 'tier_method_unknown', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'tier_method ' || coalesce(tier_method, '(missing)') || ' is not marginal or retroactive'
    from components
    where component_type = 'rate_table' and coalesce(tier_method, '') not in ('marginal', 'retroactive')
    union all
    select 'credit_type_unknown', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'credit_type ' || credit_type || ' is not revenue or overlay'
    from components where component_type = 'rate_table' and credit_type not in ('revenue', 'overlay')
    union all
    select 'rate_table_without_tiers', components.plan_id, components.plan_version, components._source_file,
        components._source_line, components._source_location, components.plan_component_key, 'a rate table needs tiers'
    from components
    where components.component_type = 'rate_table'
        and not exists (select 1 from tiers where tiers.plan_component_key = components.plan_component_key)
    union all
    select 'gate_or_cap_negative', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'gate_min_attainment and cap_amount must not be negative'
    from components where gate_min_attainment < 0 or cap_amount < 0
    union all
    select 'multiplier_factor_invalid', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'a multiplier needs a factor above 0'
    from components where component_type = 'multiplier' and coalesce(factor, 0) <= 0
    union all
    select 'spif_invalid', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'a SPIF needs amount >= 0, basis per_deal or fixed, and window_from <= window_to'
    from components
    where component_type = 'spif'
        and (amount is null or amount < 0 or coalesce(basis, 'per_deal') not in ('per_deal', 'fixed')
            or window_to < window_from)
    union all
    select 'draw_invalid', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_component_key, 'a draw needs amount >= 0 and draw_type recoverable or non_recoverable'
    from components
    where component_type = 'draw'
        and (amount is null or amount < 0 or coalesce(draw_type, '') not in ('recoverable', 'non_recoverable'))
    union all
    select 'component_of_unknown_plan', components.plan_id, components.plan_version, components._source_file,
        components._source_line, components._source_location, components.plan_component_key,
        'no plan version ' || components.plan_version_key
    from components
    left join plans on components.plan_version_key = plans.plan_version_key
    where plans.plan_version_key is null
    union all
    -- tiers: contiguous bands from 0, no overlap, no gap, only the last open-ended
    select 'tiers_do_not_start_at_zero', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_tier_key, 'the first band starts at ' || cast(from_attainment as {{ dbt.type_string() }}) || ', not 0'
    from tiers where band_order = 1 and from_attainment <> 0
    union all
    select 'tiers_overlap', plan_id, plan_version, _source_file, _source_line, _source_location, plan_tier_key,
        'band from ' || cast(from_attainment as {{ dbt.type_string() }}) || ' starts before the previous band ends ('
            || coalesce(cast(previous_to as {{ dbt.type_string() }}), 'unbounded') || ')'
    from tiers where band_order > 1 and (previous_to is null or from_attainment < previous_to)
    union all
    select 'tiers_leave_gap', plan_id, plan_version, _source_file, _source_line, _source_location, plan_tier_key,
        'band from ' || cast(from_attainment as {{ dbt.type_string() }}) || ' leaves a gap after the previous band ('
            || cast(previous_to as {{ dbt.type_string() }}) || ')'
    from tiers where band_order > 1 and from_attainment > previous_to
    union all
    select 'tier_bounds_invalid', plan_id, plan_version, _source_file, _source_line, _source_location, plan_tier_key,
        'a band needs to_attainment above from_attainment (null only on the last band) and a rate >= 0'
    from tiers
    where to_attainment <= from_attainment or rate < 0 or rate is null
        or (to_attainment is null and band_order < band_count)
    union all
    select 'tier_rate_above_bound', plan_id, plan_version, _source_file, _source_line, _source_location,
        plan_tier_key,
        'rate ' || cast(rate as {{ dbt.type_string() }}) || ' is above '
            || cast({{ var('plan_max_rate') }} as {{ dbt.type_string() }})
            || ' (rates are fractions: 0.08 = 8 %; a plan that writes percentages declares rate_unit: percent)'
    from tiers where rate > {{ var('plan_max_rate') }}
    union all
    -- required inputs: an empty snapshot would pay every rep as if there were no quota, plan or assignment
    select 'plan_input_empty', null, null, _source_file, 1, null, entity,
        'the ' || entity || ' snapshot has no rows, and ' || entity
            || ' is a required plan input; deliver the complete snapshot'
    from required_inputs where row_count = 0
    union all
    -- assignments
    select 'assignment_unknown_rep', assignments.plan_id, null, assignments._source_file, assignments._source_line,
        null, assignments.assignment_id, 'employee ' || assignments.employee_id || ' is not in the HRIS'
    from assignments
    left join employees on assignments.employee_id = employees.employee_id
    where employees.employee_id is null
    union all
    select 'assignment_unknown_plan', assignments.plan_id, null, assignments._source_file, assignments._source_line,
        null, assignments.assignment_id, 'plan ' || assignments.plan_id || ' has no version in the plans file'
    from assignments
    where not exists (select 1 from plans where plans.plan_id = assignments.plan_id)
    union all
    select 'assignment_dates_out_of_order', plan_id, null, _source_file, _source_line, null, assignment_id,
        'effective_to is before effective_from'
    from assignments where effective_from is null or effective_to < effective_from
    union all
    select 'assignments_overlap', plan_id, null, _source_file, _source_line, null, assignment_id,
        'overlaps assignment ' || previous_assignment_id || ' of employee ' || employee_id
    from assignments where previous_to is not null and effective_from <= previous_to
    union all
    -- credit splits
    select 'splits_do_not_add_to_100', null, null, min(_source_file), min(_source_line), null,
        deal_id || '|' || split_type,
        'deal ' || deal_id || ' ' || split_type || ' splits add to '
            || cast(sum(split_pct) as {{ dbt.type_string() }}) || ', not 100'
    from splits
    group by deal_id, split_type
    having sum(split_pct) <> 100
    union all
    select 'split_invalid', null, null, _source_file, _source_line, null, credit_split_key,
        'split_type must be revenue or overlay and split_pct between 0 and 100'
    from splits
    where split_type not in ('revenue', 'overlay') or split_pct is null or split_pct <= 0 or split_pct > 100
    union all
    select 'split_unknown_rep', null, null, splits._source_file, splits._source_line, null, splits.credit_split_key,
        'employee ' || splits.employee_id || ' is not in the HRIS'
    from splits
    left join employees on splits.employee_id = employees.employee_id
    where employees.employee_id is null
    union all
    -- quotas
    select 'quota_invalid', null, null, _source_file, _source_line, null, quota_key,
        'quota must be a number >= 0 for a YYYY-MM period'
    from {{ ref('stg_plans__quotas') }}
    where quota_amount is null or quota_amount < 0 or period_start_date is null
    union all
    -- manual adjustments (plans/manual_adjustments): the location names the field to fix
    select 'adjustment_unknown_rep', null, null, adjustments._source_file, adjustments._source_line, 'employee_id',
        adjustments.adjustment_id,
        'adjustment ' || adjustments.adjustment_id || ': employee ' || adjustments.employee_id || ' is not in the HRIS'
    from adjustments
    left join employees on adjustments.employee_id = employees.employee_id
    where employees.employee_id is null
    union all
    select 'adjustment_status_unknown', null, null, _source_file, _source_line, 'status', adjustment_id,
        'adjustment ' || adjustment_id || ': status ' || coalesce(status, '(missing)')
            || ' is not requested, approved or rejected'
    from adjustments where coalesce(status, '') not in ('requested', 'approved', 'rejected')
    union all
    select 'adjustment_category_unknown', null, null, _source_file, _source_line, 'category', adjustment_id,
        'adjustment ' || adjustment_id || ': category ' || coalesce(category, '(missing)')
            || ' is not missing_deal, wrong_split, wrong_rate or other'
    from adjustments where coalesce(category, '') not in ('missing_deal', 'wrong_split', 'wrong_rate', 'other')
    union all
    select 'adjustment_amount_invalid', null, null, _source_file, _source_line, 'amount', adjustment_id,
        'adjustment ' || adjustment_id || ': amount ' || coalesce(amount_raw, '(missing)')
            || ' is not a non-zero number'
    from adjustments where amount is null or amount = 0
    union all
    select 'adjustment_not_approved', null, null, _source_file, _source_line, 'approved_by', adjustment_id,
        'adjustment ' || adjustment_id || ' is approved but approved_by is empty: name the approver'
    from adjustments where status = 'approved' and approved_by is null
    union all
    select 'adjustment_not_approved', null, null, _source_file, _source_line, 'approved_on', adjustment_id,
        'adjustment ' || adjustment_id || ' is approved but approved_on is '
            || case when approved_on_raw is null then 'empty' else approved_on_raw || ', not a date' end
    from adjustments where status = 'approved' and approved_on is null
    union all
    select 'adjustment_date_invalid', null, null, _source_file, _source_line, 'requested_on', adjustment_id,
        'adjustment ' || adjustment_id || ': requested_on ' || coalesce(requested_on_raw, '(missing)')
            || ' is not a date (YYYY-MM-DD)'
    from adjustments where requested_on is null
    union all
    select 'adjustment_period_malformed', null, null, _source_file, _source_line, 'pay_period', adjustment_id,
        'adjustment ' || adjustment_id || ': pay_period ' || pay_period || ' is not a month YYYY-MM'
    from adjustments where pay_period is not null and pay_period_month is null
    union all
    select 'adjustment_period_malformed', null, null, _source_file, _source_line, 'corrects_period', adjustment_id,
        'adjustment ' || adjustment_id || ': corrects_period ' || corrects_period || ' is not a month YYYY-MM'
    from adjustments where corrects_period is not null and corrects_period_month is null
    union all
    select 'adjustment_before_go_live', null, null, approved_adjustments._source_file,
        approved_adjustments._source_line, 'pay_period', approved_adjustments.adjustment_id,
        'adjustment ' || approved_adjustments.adjustment_id || ': pay period ' || approved_adjustments.pay_period_month
            || ' is before the go-live period ' || go_live.go_live_month || ' (history is never paid)'
    from approved_adjustments
    cross join go_live
    where approved_adjustments.pay_period_month < go_live.go_live_month
    union all
    select 'adjustment_period_closed', null, null, _source_file, _source_line, 'pay_period', adjustment_id,
        'adjustment ' || adjustment_id || ': pay period ' || pay_period_month
            || ' is closed and did not pay it; set pay_period to an open period'
    from approved_in_closed_periods where frozen_line_key is null
    union all
    select 'adjustment_changed_after_close', null, null, _source_file, _source_line, 'amount', adjustment_id,
        'adjustment ' || adjustment_id || ' was paid ' || cast(frozen_amount as {{ dbt.type_string() }}) || ' '
            || frozen_currency_code || ' in closed ' || pay_period_month || ' and now reads '
            || coalesce(cast(amount as {{ dbt.type_string() }}), amount_raw) || ' ' || coalesce(currency_code, '')
            || '; restore it and record the difference as a new adjustment'
    from approved_in_closed_periods
    where frozen_line_key is not null
        and (amount is distinct from frozen_amount or currency_code is distinct from frozen_currency_code)
    union all
    select 'adjustment_currency_mismatch', null, null, approved_adjustments._source_file,
        approved_adjustments._source_line, 'currency', approved_adjustments.adjustment_id,
        'adjustment ' || approved_adjustments.adjustment_id || ': '
            || case
                when plan_currencies.currency_codes is null
                    then 'employee ' || approved_adjustments.employee_id || ' has no plan in '
                        || approved_adjustments.pay_period_month
                else 'currency ' || coalesce(approved_adjustments.currency_code, '(missing)') || ' is not '
                    || plan_currencies.currency_codes || ', the currency of the rep''s plan in '
                    || approved_adjustments.pay_period_month
            end
    from approved_adjustments
    left join (
        select manual_adjustment_line_key, min(currency_code) as currency_codes
        from adjustment_plan_currencies
        group by manual_adjustment_line_key
    ) as plan_currencies
        on approved_adjustments.manual_adjustment_line_key = plan_currencies.manual_adjustment_line_key
    where not exists (
        select 1 from adjustment_plan_currencies
        where adjustment_plan_currencies.manual_adjustment_line_key = approved_adjustments.manual_adjustment_line_key
            and adjustment_plan_currencies.currency_code = approved_adjustments.currency_code
    )
    union all
    select 'adjustment_id_duplicate', null, null, adjustments._source_file, adjustments._source_line,
        'adjustment_id', adjustments.adjustment_id,
        'adjustment_id ' || adjustments.adjustment_id || ' is already on line '
            || cast(adjustment_ids.first_line as {{ dbt.type_string() }}) || ' (one line per adjustment)'
    from adjustments
    inner join adjustment_ids
        on adjustments.adjustment_id = adjustment_ids.adjustment_id
        and adjustments._source_line = adjustment_ids._source_line
    where adjustment_ids.id_count > 1 and adjustment_ids._source_line > adjustment_ids.first_line
    union all
    select 'adjustment_unknown_deal', null, null, adjustments._source_file, adjustments._source_line, 'deal_id',
        adjustments.adjustment_id,
        'adjustment ' || adjustments.adjustment_id || ': deal ' || adjustments.deal_id || ' is not in the CRM'
    from adjustments
    where adjustments.deal_id is not null
        and not exists (select 1 from {{ ref('stg_crm__deals') }} as deals where deals.deal_id = adjustments.deal_id)
)

select
    rule,
    plan_id,
    plan_version,
    _source_file as source_file,
    cast(_source_line as integer) as source_line,
    _source_location as source_location,
    record_key,
    detail,
    coalesce(_source_file, '?') || coalesce(':' || cast(_source_line as {{ dbt.type_string() }}), '')
        || coalesce(' ' || _source_location, '') || ': ' || rule || ' - ' || detail as message
from violations
