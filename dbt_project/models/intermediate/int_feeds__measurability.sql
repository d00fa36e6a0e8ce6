{#-
  One row per measure of var measure_feeds (macros/measurability.sql): the feeds it needs and whether it is
  measurable in this build. For the data team and auditors ("why is this null?"); the
  marts call the same macro.
-#}
{%- set needs = measure_feed_needs() %}
{%- for measure in needs | sort %}
select
    '{{ measure }}'::text                                               as measure,
    '{{ needs[measure].get("all_of", []) | join(", ") }}'::text         as needs_all_of_feeds,
    '{{ needs[measure].get("any_of", []) | join(", ") }}'::text         as needs_any_of_feeds,
    {{ is_measurable(measure) }}                                        as is_measurable
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
