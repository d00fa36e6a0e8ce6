{#- A rate: numerator / denominator as a fraction 0..1 rounded to `places` decimals (4 unless
    said), null when the denominator is 0 or null. Every rate in the marts is made here, so each
    is rounded and guarded the same way. Arguments are SQL expressions, e.g.
    rate('referral_nfa_count', 'referral_count'). -#}
{% macro rate(numerator, denominator, places=4) -%}
    round(({{ numerator }})::numeric / nullif({{ denominator }}, 0), {{ places }})
{%- endmacro %}
