"""Cross-check assets: thin Dagster wrappers around ``crosscheck``, partitioned by delivery date.

person_links → data_quality_issues, household_indicators → rule_hits: four assets made by one multi-asset step,
because the steps share temp tables on one connection (linking runs once per date, not once per asset).
No ID number ever reaches metadata or logs: tables show counts by feed, county, kind, rule and township.
"""

from datetime import date

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from fangfanpin.assets.constants import DELIVERY_PARTITIONS, INGEST_KEYS, OWNER
from fangfanpin.assets.metadata import query_markdown, row_count, table_schema
from fangfanpin.assets.resources import PipelineSettings, WarehouseResource
from fangfanpin.charts import chart_md, rule_hits_by_rule
from fangfanpin.crosscheck import check_quality, compute_indicators, evaluate_rules, link_persons
from fangfanpin.crosscheck.kinds import KIND_ZH, kind_params

CROSSCHECK_GROUP = "crosscheck"
CROSSCHECK_KEYS = {
    name: AssetKey(["crosscheck", name])
    for name in ("person_links", "data_quality_issues", "household_indicators", "rule_hits")
}


_SPEC = dict(group_name=CROSSCHECK_GROUP, kinds={"duckdb", "sql"}, owners=[OWNER])
SPECS = [
    AssetSpec(
        CROSSCHECK_KEYS["person_links"],
        deps=list(INGEST_KEYS.values()),
        **_SPEC,
        description="人员与家庭关联：每个部门的每条记录按规范化证件号码关联到花名册人员和家庭；证件号码找不到时，"
        "仅当姓名+出生日期+村唯一匹配时才关联（标记为 name_birth_village），绝不只按姓名。"
        "Tables `link_rates` (every record counted by feed, county and match method: snapshot records in "
        "force on the date and increment records delivered that day) and `person_links` (those records "
        "not linked by ID number or 户编号, one by one).",
    ),
    AssetSpec(
        CROSSCHECK_KEYS["data_quality_issues"],
        deps=[CROSSCHECK_KEYS["person_links"]],
        **_SPEC,
        description="跨部门一致性检查：死亡或迁出人员仍享受低保/参保/在读；花名册性别或出生日期与证件号码不符；户人数与行数不符；"
        "花名册外人员的医疗结算；学生年龄远超学段；无法关联的记录。每条问题有中文说明和应整改的部门。",
    ),
    AssetSpec(
        CROSSCHECK_KEYS["household_indicators"],
        deps=[CROSSCHECK_KEYS["person_links"]],
        **_SPEC,
        description="家庭指标（时点）：每户每个交付日期一行，只用该日及以前交付的数据：在世人数、劳动力、收入位置、"
        "近12个月自付医疗费用（冲销后）、大额住院、未参保、辍学与无学籍儿童、高中及以上在读、住房等级与改造、"
        "救助起止、饮水、比对事实。",
    ),
    AssetSpec(
        CROSSCHECK_KEYS["rule_hits"],
        deps=[CROSSCHECK_KEYS["household_indicators"]],
        **_SPEC,
        description="部门筛查预警：政策文件的每条规则，含规则代码、风险类型、严重程度和列明证据的中文说明；已纳入且未消除的"
        "监测户（monitored）与新增候选户分开统计。也写出比对（EXC-*）命中到 `exclusion_hits`。",
    ),
]


@multi_asset(specs=SPECS, partitions_def=DELIVERY_PARTITIONS, name="crosscheck")
def crosscheck(context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings):
    """The four cross-check steps on one connection: they share temp tables, so linking runs once per date."""
    day = date.fromisoformat(context.partition_key)
    policy = settings.policy()
    with warehouse.get_connection() as con:
        link_persons(con, day, policy)
        yield _links_result(con, day)
        check_quality(con, day, policy)
        yield _quality_result(con, day)
        compute_indicators(con, day, policy)
        yield _indicators_result(con, day, policy)
        evaluate_rules(con, day, policy)
        yield _rules_result(con, day)


def _result(con, name: str, table: str, column: str, day: date, **metadata) -> MaterializeResult:
    return MaterializeResult(
        asset_key=CROSSCHECK_KEYS[name],
        metadata={
            "dagster/row_count": row_count(con, table, column, day),
            "dagster/column_schema": table_schema(con, table),
            **metadata,
        },
    )


def _links_result(con, day: date) -> MaterializeResult:
    rates = query_markdown(
        con,
        """
        SELECT feed, coalesce(county_code, '（未归属）'), sum(records)::BIGINT,
               coalesce(sum(records) FILTER (WHERE match_method IN ('id', 'household_id')), 0)::BIGINT,
               coalesce(sum(records) FILTER (WHERE match_method = 'name_birth_village'), 0)::BIGINT,
               coalesce(sum(records) FILTER (WHERE match_method = 'unmatched'), 0)::BIGINT,
               format('{:.1f}%', 100.0 * coalesce(sum(records) FILTER (WHERE match_method <> 'unmatched'), 0) / sum(records))
        FROM link_rates WHERE delivery_date = ? GROUP BY ALL ORDER BY 1, 2""",
        [day],
        ["数据集", "县", "记录", "按证件号/户编号", "按姓名+出生日期+村", "未匹配", "匹配率"],
    )
    return _result(con, "person_links", "person_links", "delivery_date", day, match_rates=MetadataValue.md(rates))


def _quality_result(con, day: date) -> MaterializeResult:
    by_kind = query_markdown(
        con,
        f"""SELECT coalesce(z.kind_zh, i.kind), i.fix_by, count(*) FROM data_quality_issues i
            LEFT JOIN {KIND_ZH} z USING (kind) WHERE i.delivery_date = $d GROUP BY ALL ORDER BY 3 DESC, 1, 2""",
        {"d": day} | kind_params(),
        ["问题类型", "整改部门", "条数"],
    )
    return _result(
        con,
        "data_quality_issues",
        "data_quality_issues",
        "delivery_date",
        day,
        issues_by_kind=MetadataValue.md(by_kind),
    )


def _indicators_result(con, day: date, policy) -> MaterializeResult:
    summary = query_markdown(
        con,
        """
        SELECT county_code, count(*), count(*) FILTER (WHERE monitored),
               count(*) FILTER (WHERE income_position < ?), count(*) FILTER (WHERE income_position IS NULL)
        FROM household_indicators WHERE as_of_date = ? GROUP BY 1 ORDER BY 1""",
        [policy.monitoring_line(day.year), day],
        ["县", "户数", "监测户", "收入低于监测线", "无收入数据"],
    )
    return _result(
        con,
        "household_indicators",
        "household_indicators",
        "as_of_date",
        day,
        households_by_county=MetadataValue.md(summary),
    )


def _rules_result(con, day: date) -> MaterializeResult:
    by_rule = query_markdown(
        con,
        """
        SELECT rule_code, severity, count(*) FILTER (WHERE NOT monitored), count(*) FILTER (WHERE monitored)
        FROM rule_hits WHERE as_of_date = ? GROUP BY ALL ORDER BY 1""",
        [day],
        ["规则", "严重程度", "新增候选", "已监测户"],
    )
    by_township = query_markdown(
        con,
        """
        SELECT county_code, township, rule_code, count(*) FILTER (WHERE NOT monitored), count(*) FILTER (WHERE monitored)
        FROM rule_hits WHERE as_of_date = ? GROUP BY ALL ORDER BY 1, 2, 3""",
        [day],
        ["县", "乡镇", "规则", "新增候选", "已监测户"],
    )
    chart_rows = con.execute(
        """SELECT rule_code, count(*) FILTER (WHERE NOT monitored), count(*) FILTER (WHERE monitored)
                                FROM rule_hits WHERE as_of_date = ? GROUP BY 1 ORDER BY 1""",
        [day],
    ).fetchall()
    candidates = con.execute(
        "SELECT count(DISTINCT household_id) FROM rule_hits WHERE as_of_date = ? AND NOT monitored", [day]
    ).fetchall()[0][0]
    return _result(
        con,
        "rule_hits",
        "rule_hits",
        "as_of_date",
        day,
        new_candidate_households=candidates,
        hits_by_rule=MetadataValue.md(by_rule),
        hits_by_rule_chart=MetadataValue.md(chart_md(rule_hits_by_rule, chart_rows, alt="各规则命中户数")),
        hits_by_township=MetadataValue.md(by_township),
    )


crosscheck_assets = [crosscheck]
