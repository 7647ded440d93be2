"""The county workbook's sheets (docs/outputs.md), one function per sheet returning its columns and rows; the
workbook (deliverables/workbook.py) puts them in order and writes them.

- ``overview``: 工作概览;
- ``alerts``: 新增预警 (and the counts of today's alerts for the overview);
- ``deadlines``: 排查任务 and 逾期提醒, the sheets counted in working days;
- ``cases``: 比对异常, 公示名单, 待确认, 风险消除候选;
- ``quality``: 数据质量问题;
- ``common``: the household join, the row order and the case sheets' query.
"""
