{#-
  The precision of the figures the marts compute (docs/definitions.md, "Precision"), in one
  place. BI tools, the semantic layer and the monthly pack read these columns as they are, so a
  rate is 0.2727, not 0.2727272727272727, and every tool shows the same digits.

    fraction  DECIMAL(18, 4)  win rates, shares, attainment, coverage, conversion, accuracy, FTE
    duration  DECIMAL(18, 1)  means, medians and totals of days, hours or minutes
    score     DECIMAL(18, 1)  eNPS (-100..100) and average survey scores (0..10)
    money     DECIMAL(18, 2)  amounts, always beside their currency_code

  Counts stay integers. The value is rounded half away from zero (SQL round() of a decimal) from
  a DECIMAL(38, 10) copy, so a double's binary noise does not decide the last digit. Plain SQL
  (round, cast to decimal), the same on DuckDB and Postgres. A null stays null.
-#}
{% macro precision_scales() -%}
    {{ return({'fraction': 4, 'duration': 1, 'score': 1, 'money': 2}) }}
{%- endmacro %}

{#- `expression` rounded and typed to the precision of its `kind` (fraction, duration, score, money). -#}
{% macro rounded(expression, kind) -%}
    {%- set scales = precision_scales() -%}
    {%- if kind not in scales -%}
        {{ exceptions.raise_compiler_error(
            "rounded(): kind must be one of " ~ (scales.keys() | sort | join(', ')) ~ ", got '" ~ kind ~ "'") }}
    {%- endif -%}
    cast(round({{ wide_decimal(expression) }}, {{ scales[kind] }}) as decimal(18, {{ scales[kind] }}))
{%- endmacro %}
