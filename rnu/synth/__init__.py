"""The synthetic-country generator behind `rnu synth`."""

from rnu.synth.build import SynthSummary, generate
from rnu.synth.rates import Rates

__all__ = ["Rates", "SynthSummary", "generate"]
