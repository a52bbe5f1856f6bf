"""ADaM from SDTM: named, pure derivations (this package) run in the order a dataset's pipeline
(`specs/adam/derivations/<dataset>.yaml`) lists them, then conformed to the ADaM metadata spec
(`specs/adam/*.csv`) and written as XPT v5. ADaM reads SDTM only, never raw data."""
