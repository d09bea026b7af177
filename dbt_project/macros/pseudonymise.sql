{#-
  A stable pseudonymous key for a person: a salted SHA-256 of their id. The salt comes from the
  SPM_PSEUDONYM_SALT environment variable (set it in production and keep it secret); without
  the salt the key cannot be joined back to an employee.
-#}
{% macro pseudonymise(column) -%}
    {{ return(adapter.dispatch('pseudonymise')(column)) }}
{%- endmacro %}

{% macro default__pseudonymise(column) -%}
    {{ dbt.hash(dbt.concat(["'" ~ env_var('SPM_PSEUDONYM_SALT', 'spm-default-salt') ~ "'", column])) }}
{%- endmacro %}

{% macro duckdb__pseudonymise(column) -%}
    sha256('{{ env_var('SPM_PSEUDONYM_SALT', 'spm-default-salt') }}' || {{ column }})
{%- endmacro %}
