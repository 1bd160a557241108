"""Program rolls by district and period, as lists a privacy policy can then mask."""
