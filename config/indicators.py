"""The names a screening rule may use: the household indicators (docs/indicators.md), three values of the delivery
date, and the rule parameters the indicators themselves are computed with.

The cross-check builds ``household_indicators`` (one row per household in the roster on a delivery date); a rule's
condition, evidence and facts name its columns listed here. Where and who the household is (codes, names, the head's
ID number) is left out: rules are about need, and evidence must not repeat personal data.
"""

from __future__ import annotations

from types import MappingProxyType

# name → DuckDB type, in the column order of household_indicators.
INDICATORS = MappingProxyType(
    {
        "household_type": "VARCHAR",
        "monitoring_category": "VARCHAR",
        "risk_type_1": "VARCHAR",
        "monitored": "BOOLEAN",
        "risk_identified_date": "DATE",
        "recorded_size": "INTEGER",
        "members_total": "INTEGER",
        "members_living": "INTEGER",
        "labour_count": "INTEGER",
        "income_year": "INTEGER",
        "income_source": "VARCHAR",
        "income_visit_date": "DATE",
        "income_size": "INTEGER",
        "net_income": "DOUBLE",
        "compliant_out_of_pocket": "DOUBLE",
        "income_position": "DOUBLE",
        "net_income_per_capita": "DOUBLE",
        "prev_income_year": "INTEGER",
        "prev_net_income_per_capita": "DOUBLE",
        "wage_fall": "DOUBLE",
        "business_fall": "DOUBLE",
        "oop_12m": "DOUBLE",
        "oop_settlements": "INTEGER",
        "oop_last_date": "DATE",
        "catastrophic_stays": "INTEGER",
        "catastrophic_max_cost": "DOUBLE",
        "catastrophic_last_date": "DATE",
        "uninsured_members": "INTEGER",
        "dropouts": "INTEGER",
        "dropout_status": "VARCHAR",
        "children_missing_school": "INTEGER",
        "post_compulsory_students": "INTEGER",
        "housing_grade": "VARCHAR",
        "housing_assessment_date": "DATE",
        "renovation_status": "VARCHAR",
        "renovation_method": "VARCHAR",
        "renovation_completed": "DATE",
        "dibao_covered": "BOOLEAN",
        "new_dibao_type": "VARCHAR",
        "new_dibao_start": "DATE",
        "new_dibao_reason": "VARCHAR",
        "temp_aid_start": "DATE",
        "temp_aid_amount": "DOUBLE",
        "temp_aid_reason": "VARCHAR",
        "disability_subsidy_type": "VARCHAR",
        "disability_subsidy_start": "DATE",
        "dibao_exit_date": "DATE",
        "roster_water_unsafe": "BOOLEAN",
        "visit_date": "DATE",
        "visit_water_secured": "BOOLEAN",
        "vehicles": "INTEGER",
        "commodity_houses": "INTEGER",
        "businesses": "INTEGER",
        "public_employees": "INTEGER",
        "financial_assets": "DOUBLE",
        "econ_checked_members": "INTEGER",
    }
)
# Columns of household_indicators that no rule may name (place and person, not need).
NOT_FOR_RULES = (
    "as_of_date",
    "county_code",
    "township",
    "village_code",
    "village_name",
    "household_id",
    "head_name",
    "head_id_number",
)

# Values of the delivery date every rule may name: name → (bound parameter, DuckDB type).
GLOBALS = MappingProxyType(
    {
        "delivery_date": ("d", "DATE"),
        "monitoring_line": ("line", "DOUBLE"),  # of the delivery date's year
        "rural_income_prior_year": ("prior_income", "DOUBLE"),  # of the year before the delivery date's
    }
)

# Windows and cut-offs the indicators are computed with: a parameter of crosscheck/sql/indicators.sql → the rule
# parameter it is. Those rules must be in the policy file (they may be switched off; their parameters still count).
INDICATOR_PARAMS = MappingProxyType(
    {
        "oop_window": ("MED-BURDEN", "window_days"),  # oop_12m, oop_settlements, oop_last_date
        "cat_window": ("MED-CATASTROPHIC", "window_days"),  # catastrophic_*
        "cat_cost": ("MED-CATASTROPHIC", "total_cost"),  # catastrophic_*
        "dropout_min": ("EDU-DROPOUT", "min_age"),  # dropouts, dropout_status
        "dropout_max": ("EDU-DROPOUT", "max_age"),
        "missing_min": ("EDU-MISSING", "min_age"),  # children_missing_school
        "missing_max": ("EDU-MISSING", "max_age"),
    }
)
# Rule parameters other stages read: the model's housing feature, the elimination check and the ledger's comparison
# of a visit with the housing department's assessment all take the unsafe grades of HOU-UNSAFE.
SHARED_PARAMS = (("HOU-UNSAFE", "grades"),)
