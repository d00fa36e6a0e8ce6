{#-
  A pseudonymous key: HMAC-SHA256(key, '<domain>:<identifier>') as 64 hex characters.

  The secret key comes from SAFEGUARDING_PSEUDONYMISATION_KEY in the environment; the
  pipeline writes its HMAC pads (never the key itself) to private.pseudonymisation_key
  before dbt runs (warehouse/pseudonymisation.py), a schema only the transformer can
  read. Computing HMAC from the pads keeps the key out of compiled SQL and dbt's logs.
  The domain stops the same identifier giving the same key in two different roles
  (a person id and an episode id that happen to be equal).
-#}
{% macro pseudonymise(identifier, domain) -%}
    encode(sha256(
        (select outer_pad from private.pseudonymisation_key)
        || sha256((select inner_pad from private.pseudonymisation_key)
                  || convert_to('{{ domain }}:' || {{ identifier }}, 'UTF8'))
    ), 'hex')
{%- endmacro %}
