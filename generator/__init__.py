"""Synthetic data generator for fangfanpin: landing files per feed plus hidden ground truth.

from fangfanpin.generator import generate, MessyRates
generate(Path("landing"), Path("truth"), ["150625"], 25_000, date(2025, 11, 1), date(2026, 11, 20), seed=0)
"""

from .core import FEEDS, GenerationSummary, generate
from .messy import MessyRates

__all__ = ["FEEDS", "GenerationSummary", "MessyRates", "generate"]
