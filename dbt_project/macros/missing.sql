{#- The one rule for "this police notification is this council missing episode" (same child
    assumed). True when
      (a) the two time windows overlap (an open window runs on for ever), or
      (b) the police report is within var missing_match_tolerance_hours of the council's start,
          either side: a short absence is often reported to the police after the child is back.
    Used by int_people__spine (date of birth + episode matching) and
    int_missing__police_notifications_matched. -#}
{% macro police_notification_matches_episode(reported_at, found_at, start_at, returned_at) -%}
    (
        ({{ reported_at }} <= coalesce({{ returned_at }}, 'infinity'::timestamptz)
         and {{ start_at }} <= coalesce({{ found_at }}, 'infinity'::timestamptz))
        or abs(extract(epoch from ({{ reported_at }} - {{ start_at }})))
           <= {{ var('missing_match_tolerance_hours') }} * 3600
    )
{%- endmacro %}
