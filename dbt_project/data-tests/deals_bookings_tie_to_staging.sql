{{ config(meta={'dagster': {'ref': {'name': 'fct_deals'}}}) }}
-- fct_deals neither loses nor duplicates deals: same count and same total amount as staging.
with facts as (select count(*) as deals, sum(amount) as amount from {{ ref('fct_deals') }}),
staged as (select count(*) as deals, sum(amount) as amount from {{ ref('stg_crm__deals') }})
select facts.deals, staged.deals as staged_deals, facts.amount, staged.amount as staged_amount
from facts cross join staged
where facts.deals != staged.deals or facts.amount != staged.amount
