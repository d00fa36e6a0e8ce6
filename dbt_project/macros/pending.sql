{#-
  THE pending rule, for every timescale (docs/marts.md, "A window still open is pending"):
  72 hours to a return home interview, 24 hours to a contact decision, 45 working days to an
  assessment, 15 working days from strategy discussion to ICPC, three months to a pathway plan
  (and the local standard's 16th birthday).

  An item has a clock start, a deadline (the last on-time moment) and perhaps the event the
  timescale asks for. Its status at the extract:
    MET      the event happened, on time;
    MISSED   the event happened late, or it has not happened and the deadline has passed;
    PENDING  it has not happened and the deadline has not passed by the end of the extract:
             outside both numerator and denominator until the event arrives or the deadline passes.
  Each measure's rate is MET / (MET + MISSED), and every monthly mart counts its PENDING items.

  "The end of the extract" is midnight after the extract date, London time (the extract holds
  the whole of its day). A deadline given as a date-time (72 or 24 real hours, inclusive) is
  still open when it falls at or after that instant; a deadline given as a date (a working day,
  a month end, a birthday: the last on-time day, inclusive) is still open when it falls after
  the extract date.
-#}

{#- The instant the extract ends: midnight after the extract date, in the source's time zone. -#}
{% macro extract_end_at(extract_date) -%}
    ((({{ extract_date }})::date + 1)::timestamp at time zone '{{ var("source_time_zone") }}')
{%- endmacro %}

{#- True while the deadline has not passed by the end of the extract (see above). -#}
{% macro window_still_open(deadline, extract_date, deadline_is_date=false) -%}
    {%- if deadline_is_date -%}
        (({{ deadline }})::date > ({{ extract_date }})::date)
    {%- else -%}
        (({{ deadline }}) >= {{ extract_end_at(extract_date) }})
    {%- endif -%}
{%- endmacro %}

{#- 'MET', 'MISSED' or 'PENDING' (see above); null when there is no deadline (no clock start).
      event:           the event's date or date-time column (null: not happened)
      on_time:         boolean SQL: the event is within the timescale (e.g. within_hours(...))
      deadline:        the last on-time date-time, or date with deadline_is_date
      extract_date:    the extract date (macro extract_as_at) -#}
{% macro timeliness_status(event, on_time, deadline, extract_date, deadline_is_date=false) -%}
    (case
        when ({{ deadline }}) is null then null
        when ({{ event }}) is not null then case when {{ on_time }} then 'MET' else 'MISSED' end
        when {{ window_still_open(deadline, extract_date, deadline_is_date) }} then 'PENDING'
        else 'MISSED'
    end)
{%- endmacro %}

{#- The measure's flag from a status: true MET, false MISSED, null PENDING (or no status). -#}
{% macro met_from_status(status) -%}
    (case {{ status }} when 'MET' then true when 'MISSED' then false end)
{%- endmacro %}
