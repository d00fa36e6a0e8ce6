{#-
  Memo of the assessments' working-day timeliness (macros/timeliness.sql), one row per
  distinct (start_date, authorised_date). Rebuilt each night from tonight's
  assessments, computing the rule only for inputs not seen under the same rule last night
  (macros/incremental_memo.sql). Read by mart_front_door_assessments.
-#}
{%- set inputs = assessments_with_timeliness_inputs() -%}

{{ memo_model(inputs, assessment_timeliness_input_columns(), assessment_timeliness_results(),
              reference_relations=[ref('bank_holidays_england_and_wales')]) }}
