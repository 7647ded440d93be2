"""fangfanpin · 防返贫动态监测: the daily data pipeline behind county monitoring of households at risk of falling back
into poverty. The repository root is this package, so that the project installs one import name, ``fangfanpin``,
while its fixed top-level folders stay where a newcomer looks for them.

Layers, lowest first (``docs/architecture.md``; import-linter enforces them, see ``pyproject.toml``):

- ``config``: the policy file and the packaged reference data (divisions, regions);
- ``core``: what every stage shares: settings, the warehouse connection, running SQL, Arrow, personal-data masking;
- ``data_contracts``, ``charts``: one contract per feed (and its Great Expectations suites); small PNG charts;
- the stages, each a plain-Python (and SQL) package without Dagster, never importing a later one: ``ingest``
  (and ``generator``, the synthetic county), ``crosscheck``, ``models``, ``workflow``, ``deliverables``;
- ``assets``: the Dagster asset graph, one folder per stage, its checks beside its assets, and the warehouse resource;
- ``pipeline``: Dagster Definitions, jobs, schedules, sensors, and the ``fangfanpin`` command.
"""
