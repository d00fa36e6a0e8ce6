{#-
  Memo of the assessments' working-day timeliness (macros/timeliness.sql), one row per
  distinct (start_date, authorised_date, open_as_at). Rebuilt each night from tonight's
  assessments, computing the rule only for inputs not seen under the same rule last night
  (macros/incremental_memo.sql). Read by mart_front_door_assessments.
-#}
{%- set inputs -%}
    select assessments.start_date,
           assessments.authorised_date,
           case when assessments.authorised_date is null then as_at.extract_date end as open_as_at
    from {{ ref('stg_crs__assessments') }} as assessments
    cross join (select {{ extract_as_at(ref('stg_crs__assessments')) }} as extract_date) as as_at
{%- endset -%}

{{ memo_model(inputs, assessment_timeliness_input_columns(), assessment_timeliness_results(),
              reference_relations=[ref('bank_holidays_england_and_wales')]) }}
