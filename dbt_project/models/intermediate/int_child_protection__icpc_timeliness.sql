{#-
  Memo of the s47 enquiries' ICPC timeliness (macros/timeliness.sql), one row per distinct
  (strategy_discussion_date, icpc_date). Rebuilt each night from tonight's enquiries, computing
  the rule only for inputs not seen under the same rule last night
  (macros/incremental_memo.sql). Read by mart_child_protection_s47_enquiries.

  The inputs are every enquiry with each ICPC linked to it, and with none: a superset of the
  (strategy discussion, first ICPC) pairs the mart looks up, so the choice of the first ICPC
  stays in the mart alone.
-#}
{%- set inputs -%}
    with enquiries as (
        select * from {{ ref('stg_crs__s47_enquiries') }}
    ),

    icpcs as (
        select * from {{ ref('stg_crs__icpcs') }}
    )

    select enquiries.strategy_discussion_date, icpcs.icpc_date
    from enquiries
    left join icpcs on icpcs.s47_id = enquiries.s47_id
    union all
    select enquiries.strategy_discussion_date, null::date
    from enquiries
{%- endset -%}

{{ memo_model(inputs, icpc_timeliness_input_columns(), icpc_timeliness_results(),
              reference_relations=[ref('bank_holidays_england_and_wales')]) }}
