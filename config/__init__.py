"""Packaged reference data: administrative divisions (and, from the cross-check stage on, the policy file)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).parent
DIVISIONS_DIR = CONFIG_DIR / "divisions"
DEMO_COUNTY = "150625"  # 杭锦旗, 鄂尔多斯市, 内蒙古
