"""submit: raw clinical trial data to a regulatory study data package."""

__version__ = "0.1.0"
