"""The synthetic-country generator behind `rnu synth`."""

from rnu.synth.generate import SynthSummary, generate
from rnu.synth.rates import Rates

__all__ = ["Rates", "SynthSummary", "generate"]
