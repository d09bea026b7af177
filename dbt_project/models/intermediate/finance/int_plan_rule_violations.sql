{{ config(materialized='view') }}
{#-
  Every broken rule in the sales-plan inputs, one row per violation, naming the rule, the plan
  (or rep / deal), the file and line to fix. The data test plan_inputs_follow_the_rules fails when
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
