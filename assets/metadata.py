"""What assets show in the UI: a table's column schema, its row count for a date, and small Markdown tables."""

from datetime import date

from dagster import TableColumn, TableSchema


def table_schema(con, table: str) -> TableSchema:
    return TableSchema(columns=[TableColumn(r[0], r[1].lower()) for r in con.execute(f"DESCRIBE {table}").fetchall()])


def row_count(con, table: str, date_column: str, day: date) -> int:
    return con.execute(f"SELECT count(*) FROM {table} WHERE {date_column} = ?", [day]).fetchall()[0][0]


def markdown_table(rows: list, headers: list[str]) -> str:
    """A Markdown table (integers with thousands separators); 无 when there are no rows."""
    if not rows:
        return "无"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += [
        "| "
        + " | ".join(
            "" if v is None else (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)) for v in r
        )
        + " |"
        for r in rows
    ]
    return "\n".join(lines)


def query_markdown(con, sql: str, params: list, headers: list[str]) -> str:
    return markdown_table(con.execute(sql, params).fetchall(), headers)
