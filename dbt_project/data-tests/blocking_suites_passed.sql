{#-
  Blocking: a quality suite that guards finance failed in its latest validation (a critical
  expectation on deals, employees, quotas or plan assignments). Every commission model is
  skipped until a corrected delivery passes it; quality.expectation_results has the failing
  expectations with examples (value, file, line).
-#}
select suite, validation_id, validated_at, failed_critical
from {{ ref('int_finance_suites_checked') }}
where not passed
