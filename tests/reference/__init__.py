"""A second, independent computation of the published figures (issue 15).

Written from docs/rules.md and docs/marts.md (docs/feeds.md for the files), never from
the dbt project's models or macros: it reads the delivered files in the landing folder with
pandas, applies the rules as the docs state them, and gives the scorecard (`scorecard.scorecard`)
and the person-level marts (`missing.episodes`, `pathway.young_people`) as DataFrames for the tests
to compare with what was published. Where the docs leave a choice, the code says DECISION and
why; docs/marts.md ("Reference computation") lists them.
"""
