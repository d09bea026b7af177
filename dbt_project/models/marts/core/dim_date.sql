{#-
  One row per calendar day over the span of the data (first deal / activity / HR event to a year
  after the last). Fiscal year starts in var('fiscal_year_start_month'); the fiscal year is
  named by the calendar year in which it ends. Working days are Monday to Friday.
-#}
{%- set fy_start = var('fiscal_year_start_month', 1) | int -%}
with bounds as (
    select
        least(
            (select min(cast(created_at as date)) from {{ ref('stg_crm__deals') }}),
            (select min(hire_date) from {{ ref('stg_hris__employees') }})
        ) as first_day,
        (select max(cast(coalesce(closed_at, created_at) as date)) from {{ ref('stg_crm__deals') }}) as last_day
),

spine as (
    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2040-01-01' as date)") }}
),

days as (
    select cast(spine.date_day as date) as date_day
    from spine
    cross join bounds
    where spine.date_day >= {{ dbt.date_trunc('year', 'bounds.first_day') }}
        and spine.date_day < {{ dbt.dateadd('year', 2, dbt.date_trunc('year', 'bounds.last_day')) }}
),

parts as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(quarter from date_day) as integer) as calendar_quarter,
        cast(extract(month from date_day) as integer) as calendar_month,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week
    from days
),

fiscal as (
    select
        *,
        mod(calendar_month - {{ fy_start }} + 12, 12) + 1 as fiscal_month,
        calendar_year + case when {{ fy_start }} > 1 and calendar_month >= {{ fy_start }} then 1 else 0 end
            as fiscal_year
    from parts
)

select
    date_day,
    calendar_year,
    calendar_quarter,
    calendar_month,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
    cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
    iso_day_of_week,
    iso_day_of_week <= 5 as is_working_day,
    fiscal_year,
    cast((fiscal_month - 1) / 3 as integer) + 1 as fiscal_quarter,
    fiscal_month,
    'FY' || cast(fiscal_year as {{ dbt.type_string() }}) || '-Q'
        || cast(cast((fiscal_month - 1) / 3 as integer) + 1 as {{ dbt.type_string() }}) as fiscal_quarter_label
from fiscal
