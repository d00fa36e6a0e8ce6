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

{#- The pseudonymous key of a reconciled missing episode: the council's episode id when the
    council recorded it, else the first police notification of a police-only episode. The
    one rule for every mart that names missing episodes (mart_return_home_interviews,
    mart_partner_missing_episodes), so their keys join. -#}
{% macro missing_episode_key(recorded_by_council, episode_id, police_notification_id) -%}
    case when {{ recorded_by_council }}
         then {{ pseudonymise(episode_id, 'missing_episode') }}
         else {{ pseudonymise(police_notification_id, 'police_notification') }}
    end
{%- endmacro %}
