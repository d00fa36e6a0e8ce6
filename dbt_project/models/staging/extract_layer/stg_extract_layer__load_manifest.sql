{#- The load manifest, typed and trimmed to what dbt needs: one row per file the extract
    layer has seen. is_published marks the batch readers see for its feed and extract date
    (status 'loaded'; at most one per feed and date, the loader guarantees it). -#}
select
    batch_id,
    feed,
    extract_date,
    status,
    status = 'loaded'               as is_published,
    rows_loaded,
    rows_quarantined,
    received_at,
    finished_at
from {{ source('extract_layer', 'load_manifest') }}
