{#-
  The improvement plan's trackers for the safeguarding partnership: mart_trackers_monthly
  (month x tracker), with small counts suppressed (macros/suppression.sql). Trackers are
  different lists, not parts of a whole, and there is no total row: each month and tracker is
  its own group, so primary suppression is enough. The ages of unresolved escalations are
  shown only when their count is.
-#}
with cells as (
    select *, false as is_total_row
    from {{ ref('mart_trackers_monthly') }}
),

suppressed as (
    {{ suppress_small_counts(
        'cells', group_by=['activity_month', 'tracker'], cell_columns=[],
        counts=['opened_count', 'closed_count', 'open_at_month_end_count', 'unresolved_escalation_count'],
        keep=['unresolved_escalation_average_age_days', 'unresolved_escalation_oldest_age_days']) }}
)

select
    activity_month, tracker, is_total_row,
    opened_count, is_opened_count_suppressed,
    closed_count, is_closed_count_suppressed,
    open_at_month_end_count, is_open_at_month_end_count_suppressed,
    unresolved_escalation_count, is_unresolved_escalation_count_suppressed,
    case when not is_unresolved_escalation_count_suppressed then unresolved_escalation_average_age_days end
        as unresolved_escalation_average_age_days,
    case when not is_unresolved_escalation_count_suppressed then unresolved_escalation_oldest_age_days end
        as unresolved_escalation_oldest_age_days
from suppressed
