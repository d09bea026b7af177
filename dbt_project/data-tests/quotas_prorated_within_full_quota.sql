-- Proration and ramp only ever reduce a quota.
select quota_key, quota_amount, prorated_quota_amount
from {{ ref('fct_quotas') }}
where prorated_quota_amount > quota_amount or prorated_quota_amount < 0
