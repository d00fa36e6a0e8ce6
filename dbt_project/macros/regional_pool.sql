{#-
  The regional data pool's degrade steps (docs/access.md, "The regional pool"), as London's
  pooled-returns tools do before councils share person-level returns:
    pool_hash(identifier, domain)  HMAC-SHA256 with the pool's secret salt, not the warehouse's
                                   pseudonymisation key, so the pool's keys cannot be joined to
                                   the marts' (or to another pool's); null when no salt is installed.
    postcode_sector(postcode)      "CR0 1AB" -> "CR0 1"; null when the text is not a UK postcode.
    month_of_birth(date)           first of the month (macros/privacy.sql).
  A degrade step that cannot be applied is a failure, named in the model's degrade_failure
  column: the nightly publish then withholds the whole regional extract (warehouse/audiences.py).
  The salt's HMAC pads are in private.regional_pool_salt (warehouse/pseudonymisation.py).
-#}
{% macro pool_hash(identifier, domain) -%}
    encode(sha256(
        (select outer_pad from private.regional_pool_salt)
        || sha256((select inner_pad from private.regional_pool_salt)
                  || convert_to('{{ domain }}:' || {{ identifier }}, 'UTF8'))
    ), 'hex')
{%- endmacro %}

{% macro postcode_sector(postcode) -%}
    regexp_replace(upper(replace({{ postcode }}, ' ', '')),
                   '^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$', '\1 \2')
{%- endmacro %}

{#- True when `postcode` has a value that postcode_sector() cannot degrade. -#}
{% macro postcode_cannot_be_degraded(postcode) -%}
    ({{ postcode }} is not null
     and upper(replace({{ postcode }}, ' ', '')) !~ '^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$')
{%- endmacro %}
