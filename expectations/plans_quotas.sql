-- Finance's quota file (replaced whole on every load).
select
    r.employee_id,
    r.period_month,
    r.quota_amount as quota_text,
    try_cast(nullif(trim(r.quota_amount), '') as double) as quota_amount,
    upper(trim(r.currency)) as currency_code,
    r._source_file,
    r._source_line
from raw_plans.quotas as r
where {scope}
