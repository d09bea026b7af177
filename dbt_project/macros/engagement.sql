{#- eNPS category of a 0-10 score: promoters 9-10, passives 7-8, detractors 0-6 (0 included). -#}
{% macro enps_category(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= 9 then 'promoter'
        when {{ score }} >= 7 then 'passive'
        else 'detractor'
    end
{%- endmacro %}

{#-
  Complementary (secondary) suppression over one set of sibling groups. Given rows with a
  boolean `flag` (already suppressed) and `respondents`, returns the rows with `flag_out`: once a
  sibling set has any suppressed group, its smallest shown groups are suppressed too until the
  suppressed ones are at least two groups holding at least `min_size` respondents together.
  Company rows (group_type 'company') are never suppressed.
-#}
{% macro complementary_suppression(relation, flag, partition_by, min_size, flag_out) -%}
    select
        {{ relation }}.*,
        {{ flag }} or (
            group_type != 'company'
            and sum(case when {{ flag }} then 1 else 0 end) over (partition by {{ partition_by }}) > 0
            and (
                sum(case when {{ flag }} then 1 else 0 end) over (partition by {{ partition_by }})
                    + count(*) over (
                        partition by {{ partition_by }}, {{ flag }}
                        order by respondents, group_key rows between unbounded preceding and 1 preceding
                    ) < 2
                or sum(case when {{ flag }} then respondents else 0 end) over (partition by {{ partition_by }})
                    + coalesce(sum(respondents) over (
                        partition by {{ partition_by }}, {{ flag }}
                        order by respondents, group_key rows between unbounded preceding and 1 preceding
                    ), 0) < {{ min_size }}
            )
        ) as {{ flag_out }}
    from {{ relation }}
{%- endmacro %}
